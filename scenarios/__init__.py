"""The shipped scenarios, installed as package data.

Not code: this file makes the folder a package so that setuptools installs its
YAML (and trace) files with the simulator and ``importlib.resources`` finds them
outside a checkout (``sim.cli.main.DEFAULT_SCENARIO``). The files stay where they
are, so relative references between them (a sweep's ``base``, a trace ``file``)
resolve the same in a checkout and in an installed wheel.
"""
