"""QoS targets and their gates: the check verdicts, JUnit reports, the pytest plugin."""
