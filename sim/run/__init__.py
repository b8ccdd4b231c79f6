"""One run: the builder, the workload protocol, plug-in loading, records and results."""
