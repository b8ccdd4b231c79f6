"""The command line: one module per subcommand over the run, sweep and QoS packages."""
