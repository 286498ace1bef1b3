"""Generic extractors, one per kind of sector system."""
