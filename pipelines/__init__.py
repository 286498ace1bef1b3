"""Maglumat pipelines: extraction from sector systems and orchestration with Dagster."""
