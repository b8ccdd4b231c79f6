"""Which site serves a user group: the queries every workload resolves its targets with.

A workload names its server as ``"cloud"``, ``"nearest_mec"`` or a node name.
Compute workloads need a site whose compute runs their job kind
(:func:`serving_site`); storage workloads (videos, relays, caches) take any MEC
or cloud node (:func:`storage_site`).  "cloud" is the first cloud node in name
order; "nearest_mec" is the one of least propagation delay from the group's
attachment point (ties as `Topology.nearest` breaks them).
"""

from __future__ import annotations

from sim.net.topology import Topology

__all__ = ["serving_site", "storage_site"]


def serving_site(topology: Topology, target: str, attach: str | None, kind: str) -> str | None:
    """The compute site for `target` for users at `attach`, or None when no MEC site
    that runs job `kind` is reachable (or there is no cloud)."""
    sites = {n: s for n, s in topology.sites.items() if s.compute is not None}
    if target == "cloud":
        return next((n for n in sorted(sites) if sites[n].kind == "cloud"), None)
    if target == "nearest_mec":
        candidates = [n for n, s in sites.items() if s.kind == "mec"
                      and s.compute is not None and kind in s.compute.service]
        return None if attach is None else topology.nearest(attach, candidates)
    return target


def storage_site(topology: Topology, target: str, attach: str) -> str | None:
    """The node serving `target` from storage for users at `attach`: any MEC or
    cloud node, with or without compute."""
    if target == "cloud":
        return next((n for n in sorted(topology.sites)
                     if topology.sites[n].kind == "cloud"), None)
    if target == "nearest_mec":
        mecs = [n for n, s in topology.sites.items() if s.kind == "mec"]
        return topology.nearest(attach, mecs)
    return target
