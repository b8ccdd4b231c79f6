"""Sweeps: a base scenario over parameter values and replications, and their tables."""
