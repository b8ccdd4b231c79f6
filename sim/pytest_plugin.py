"""pytest plugin (entry point ``pytest11``): scenario files with ``qos:`` targets as tests.

Collection of scenario files is being built (issue 7); until then the plugin
registers nothing, so installing edgestream never changes a project's test run.
"""
