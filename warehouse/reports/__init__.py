"""Management reports rendered from the published snapshot."""
