"""Scenario files: units, schema, loading and validation."""
