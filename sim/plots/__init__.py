"""Plots of runs and sweeps, drawn on explicit Agg canvases (no pyplot state)."""
