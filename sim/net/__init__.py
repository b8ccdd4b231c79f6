"""Flow-level network: topology, routes, max-min sharing, traces, link load."""
