"""5G NR radio access: cells, TR 38.901 channel, link adaptation, schedulers, mobility.

The radio hop is a time-shared resource inside the flow solver; see docs/radio.md.
Modules here know no workload and never import ``edge`` or ``streaming``.
"""
