"""Live mode: the live class through a real aiortc WebRTC relay on loopback.

A sender, a relay (an SFU at the MEC site) and N receivers run as separate OS
processes; a supervisor starts them, brokers their signalling, carries their
packets through an impairment stage that applies the scenario's link delay,
jitter, loss and rate, and turns what the receivers measured into the same
``frames`` table and ``summary.json`` keys as a simulated run.  Only the ``live``
and ``calibrate`` commands import this package, so a simulated run never loads
aiortc.  docs/live.md explains what is real and what is emulated.
"""
