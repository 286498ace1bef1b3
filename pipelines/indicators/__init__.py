"""The management indicator catalogue: YAML in dbt_project/indicators compiled for dbt."""
