"""Simulated sector systems for the demo and the tests (deterministic with a seed)."""
