"""The scenario schema: typed, validated configuration objects.

These classes are configuration only.  Model code (network, queues, workloads)
reads them; they import no model code, so the schema can be documented and
checked without running anything.  Every model forbids unknown keys, and every
union is discriminated by a ``kind``/``dist``/``process`` key so that errors point
at one alternative instead of listing all of them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from sim.radio.schema import RadioSpec, UeRadioSpec
from sim.scenario.limits import MAX_LOGNORMAL_CV, MAX_SEED
from sim.scenario.plugin_union import PluginUnion
from sim.scenario.quantities import (
    Duration,
    Frequency,
    PositiveDuration,
    PositiveRate,
    PositiveSize,
    Probability,
    Size,
)
from sim.scenario.spec_base import Name, QuietSpec, Spec
from sim.scenario.workload_spec import WorkloadEntry

# --------------------------------------------------------------------------- links


class DirectionalRate(Spec):
    """Different bandwidth in each direction of a link (a -> b and b -> a)."""

    a_to_b: PositiveRate = Field(description="Bandwidth from end `a` to end `b`.")
    b_to_a: PositiveRate = Field(description="Bandwidth from end `b` to end `a`.")


class AccessRate(Spec):
    """Different bandwidth up (user to network) and down (network to user)."""

    uplink: PositiveRate = Field(description="Bandwidth from the user to the network.")
    downlink: PositiveRate = Field(description="Bandwidth from the network to the user.")


def _scalar_or_mapping(value: object) -> str:
    # Called on raw YAML when validating and on the model when serialising.
    return "per_direction" if isinstance(value, dict | BaseModel) else "both"


LinkRate = Annotated[
    Annotated[PositiveRate, Tag("both")] | Annotated[DirectionalRate, Tag("per_direction")],
    Discriminator(_scalar_or_mapping),
]
AccessLinkRate = Annotated[
    Annotated[PositiveRate, Tag("both")] | Annotated[AccessRate, Tag("per_direction")],
    Discriminator(_scalar_or_mapping),
]


class LinkTraceSpec(QuietSpec):
    """A measured throughput log that the link's capacity follows over time."""

    quiet: ClassVar[tuple[str, ...]] = ("latency",)
    file: str = Field(description="CSV (time_s, bandwidth_bps[, latency_s]) or sabre JSON "
                      "periods (duration_ms, bandwidth_kbps, latency_ms); relative to the "
                      "scenario file.")
    direction: Literal["both", "a_to_b", "b_to_a"] = Field(
        "both", description="Which direction follows the trace (the other keeps `bandwidth`).")
    repeat: bool = Field(True, description="Start the trace again when it runs out.")
    scale: float = Field(1.0, gt=0, description="Multiply every bandwidth of the trace.")
    latency: bool = Field(
        True, description="Where the trace gives a latency per period, it is the one-way "
        "delay of the traced directions for messages sent in that period (instead of "
        "`delay`, which still decides routing); false keeps `delay` throughout.")


class LinkSpec(Spec):
    """A bidirectional link between two nodes; each direction has its own capacity."""

    a: Name = Field(description="Name of one end node.")
    b: Name = Field(description="Name of the other end node.")
    bandwidth: LinkRate | None = Field(
        None, description='Capacity per direction, e.g. "1 Gbps", or {a_to_b: ..., b_to_a: ...}'
        " (needed unless a trace drives both directions)."
    )
    trace: LinkTraceSpec | None = Field(None, description="Capacity from a throughput trace.")
    delay: Duration = Field(0.0, description="One-way propagation delay.")
    jitter: Duration = Field(
        0.0, description="Mean of an exponential extra delay drawn per message and direction."
    )
    loss: Probability = Field(0.0, description="Packet loss probability per direction.")

    @model_validator(mode="after")
    def _has_capacity(self) -> LinkSpec:
        if self.bandwidth is None and (self.trace is None or self.trace.direction != "both"):
            raise ValueError("give `bandwidth` (or a `trace` for both directions)")
        return self


class AccessLinkSpec(Spec):
    """The link of each member of a user group to its attachment node."""

    bandwidth: AccessLinkRate = Field(
        description='Capacity per direction, e.g. "100 Mbps", or {uplink: ..., downlink: ...}.'
    )
    delay: Duration = Field(0.0, description="One-way propagation delay.")
    jitter: Duration = Field(
        0.0, description="Mean of an exponential extra delay drawn per message and direction."
    )
    loss: Probability = Field(0.0, description="Packet loss probability per direction.")


class RouteSpec(Spec):
    """An explicit route, overriding least-latency routing between two nodes."""

    src: Name = Field(description="Start node (a user group, site or router).")
    dst: Name = Field(description="End node.")
    via: list[Name] = Field(description="Intermediate nodes in order; each hop must be a link.")
    symmetric: bool = Field(True, description="Also use the reversed route from dst to src.")


class TcpSpec(Spec):
    """TCP-like rate cap per flow: window / RTT, and the Mathis bound when there is loss."""

    window: PositiveSize = Field(description="Congestion window, e.g. \"64 kB\".")
    mss: PositiveSize = Field(1460.0, description="Maximum segment size for the loss bound.")


class NetworkSpec(Spec):
    """Transport options shared by all flows."""

    tcp: TcpSpec | None = Field(None, description="Enable the TCP-like rate cap (off if absent).")


# ------------------------------------------------------------ service-time models


JobMemory = Annotated[Size, Field(
    description='Memory a job of this kind holds while in service, e.g. "2 GB"; with the '
    "site's `memory` it bounds the jobs served at once.")]


class JobCost(QuietSpec):
    """What one job of a kind costs a site: its service time (the subclasses, one per
    distribution plug-in, with a ``dist`` Literal) and its `memory`, declared last in each
    so that it comes after the distribution's keys."""

    quiet: ClassVar[tuple[str, ...]] = ("memory",)
    dist: str
    if TYPE_CHECKING:  # a field of each subclass, so it comes after their keys
        memory: float

    def mean(self) -> float:
        """Mean service time (s)."""
        raise NotImplementedError

    def std(self) -> float:
        """Standard deviation of the service time (s)."""
        raise NotImplementedError


class DeterministicDist(JobCost):
    """Always the same value."""

    dist: Literal["deterministic"]
    value: Duration = Field(description="The constant service time.")
    memory: JobMemory = 0.0

    def mean(self) -> float:
        return self.value

    def std(self) -> float:
        return 0.0


class ExponentialDist(JobCost):
    """Memoryless service times (the M in M/M/c)."""

    dist: Literal["exponential"]
    mean_: PositiveDuration = Field(alias="mean", description="Mean service time.")
    memory: JobMemory = 0.0

    def mean(self) -> float:
        return self.mean_

    def std(self) -> float:
        return self.mean_


class LognormalDist(JobCost):
    """Right-skewed service times, given by the mean and standard deviation of the times."""

    dist: Literal["lognormal"]
    mean_: PositiveDuration = Field(alias="mean", description="Mean service time.")
    sd: PositiveDuration = Field(description="Standard deviation of the service time.")
    memory: JobMemory = 0.0

    def mean(self) -> float:
        return self.mean_

    def std(self) -> float:
        return self.sd

    @model_validator(mode="after")
    def _bounded_spread(self) -> LognormalDist:
        if self.sd > MAX_LOGNORMAL_CV * self.mean_:
            raise ValueError(
                f"sd ({self.sd:g} s) is more than {MAX_LOGNORMAL_CV:g} times the mean "
                f"({self.mean_:g} s); that is the limit (a wider lognormal overflows)"
            )
        return self

    def log_params(self) -> tuple[float, float]:
        """(mu, sigma) of the underlying normal distribution."""
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        return math.log(self.mean_) - sigma2 / 2, math.sqrt(sigma2)


class UniformDist(JobCost):
    """Service times uniform between two bounds."""

    dist: Literal["uniform"]
    low: Duration = Field(description="Smallest service time.")
    high: Duration = Field(description="Largest service time.")
    memory: JobMemory = 0.0

    @model_validator(mode="after")
    def _ordered(self) -> UniformDist:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g} s) must not be below low ({self.low:g} s)")
        return self

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)


class EmpiricalDist(JobCost):
    """Service times drawn uniformly from measured values."""

    dist: Literal["empirical"]
    values: list[Duration] = Field(min_length=1, description="Measured service times.")
    memory: JobMemory = 0.0

    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    def std(self) -> float:
        mean = self.mean()
        return math.sqrt(math.fsum((v - mean) ** 2 for v in self.values) / len(self.values))


ServiceTime = Annotated[JobCost, PluginUnion("sim.distributions:SAMPLERS", "dist")]
"""A service-time distribution: the spec of a registered distribution plug-in."""


class ComputeSpec(Spec):
    """A multi-server queue: the compute of a MEC site or of the cloud."""

    servers: int = Field(1, ge=1, description="Number of parallel servers.")
    discipline: Literal["fifo", "priority"] = Field(
        "fifo", description="fifo, or non-preemptive priority (lower number served first)."
    )
    service: dict[Name, ServiceTime] = Field(
        description="Service-time distribution per job kind."
    )


# --------------------------------------------------------------------------- nodes


class _Node(Spec):
    name: Name = Field(description="Unique node name.")


class _Site(_Node, QuietSpec):
    """A node that can compute and store: its resources besides the servers."""

    quiet: ClassVar[tuple[str, ...]] = ("memory", "storage")

    kind: str  # narrowed by each kind of site; declared here to keep it second in dumps
    compute: ComputeSpec | None = Field(None, description="Compute; absent = no jobs here.")
    memory: PositiveSize | None = Field(
        None, description='Memory for the jobs in service, e.g. "64 GB": a job starts only '
        "when its kind's `memory` fits in what the running jobs leave; absent = unlimited.")
    storage: Size | None = Field(
        None, description='Cache storage, e.g. "2 TB": the caches workloads keep at the site '
        "must fit in it together; absent = unlimited.")


class CloudNode(_Site):
    """The core cloud data centre."""

    kind: Literal["cloud"]


class MecNode(_Site):
    """A multi-access edge computing site."""

    kind: Literal["mec"]


class CoreNode(_Node):
    """The mobile core (UPF): forwards traffic, no compute."""

    kind: Literal["core"]


class RouterNode(_Node):
    """A router or aggregation switch."""

    kind: Literal["router"]


class UserGroup(_Node):
    """`count` users that share one traffic profile, each with its own access link.

    The access is either a fixed link per user (`access`) or the 5G radio (`radio`):
    then each user is a UE served by the best cell, and `attach` is the node where
    its traffic enters the wired network (the cells' aggregation point).
    """

    kind: Literal["users"]
    count: int = Field(1, ge=1, description="Number of users in the group.")
    attach: Name = Field(description="Node the users' access links (or cells) connect to.")
    access: AccessLinkSpec | None = Field(None, description="Each user's fixed access link.")
    radio: UeRadioSpec | None = Field(None, description="Radio access instead of `access`.")

    @model_validator(mode="after")
    def _one_access(self) -> UserGroup:
        if (self.access is None) == (self.radio is None):
            raise ValueError("give exactly one of `access` (a fixed link) and `radio`")
        return self


Node = Annotated[
    CloudNode | MecNode | CoreNode | RouterNode | UserGroup, Field(discriminator="kind")
]
SiteNode = CloudNode | MecNode

# ----------------------------------------------------------------------- workloads


class ArrivalSpec(Spec):
    """Base of an arrival process's spec (one per arrival plug-in, with a ``process``
    Literal)."""

    process: str


class PoissonArrivals(ArrivalSpec):
    """Exponential inter-arrival times."""

    process: Literal["poisson"]
    rate: Frequency = Field(description='Mean arrivals per second per user, e.g. "1 /s".')


class DeterministicArrivals(ArrivalSpec):
    """A fixed interval; each user starts at a random phase within the first interval."""

    process: Literal["deterministic"]
    rate: Frequency = Field(description="Arrivals per second per user.")


Arrivals = Annotated[ArrivalSpec, PluginUnion("sim.arrivals:ARRIVALS", "process")]
"""An arrival process: the spec of a registered arrival plug-in."""


# ----------------------------------------------------------------------------- QoS


class QosTarget(Spec):
    """A bound on one summary metric; the run passes when every bound holds."""

    metric: str = Field(description='Summary key, e.g. "requests.recommend.latency_s.p95".')
    max: float | str | None = Field(None, description='Upper bound with unit, e.g. "100 ms".')
    min: float | str | None = Field(None, description="Lower bound with unit.")

    @model_validator(mode="after")
    def _has_bound(self) -> QosTarget:
        if self.max is None and self.min is None:
            raise ValueError("give `max`, `min` or both")
        return self


class OutputSpec(Spec):
    """What a run writes besides summary.json."""

    tables: bool = Field(True, description="Write per-event Parquet tables.")
    plots: bool = Field(True, description="Write PNG plots.")


class Scenario(Spec):
    """A whole scenario: topology, workloads, run length and QoS targets."""

    name: Name = Field(description="Scenario name; results go to results/<name>/.")
    description: str = Field("", description="Free text shown in the summary.")
    seed: int = Field(1, ge=0, lt=MAX_SEED, description="Master random seed (below 2**63).")
    duration: PositiveDuration = Field(description="Simulated time.")
    warmup: Duration = Field(0.0, description="Initial period excluded from statistics.")
    sample_interval: PositiveDuration = Field(
        1.0, description="Interval of the sampled link and site series."
    )
    network: NetworkSpec = Field(default_factory=NetworkSpec, description="Transport options.")
    radio: RadioSpec | None = Field(None, description="5G radio access (cells); see docs/radio.md.")
    nodes: list[Node] = Field(min_length=1, description="Nodes of the topology.")
    links: list[LinkSpec] = Field(default_factory=list, description="Links between nodes.")
    routes: list[RouteSpec] = Field(default_factory=list, description="Explicit routes.")
    workloads: list[WorkloadEntry] = Field(
        default_factory=list, description="Traffic sources; `kind` names a workload plug-in.")
    qos: list[QosTarget] = Field(default_factory=list, description="QoS targets for `check`.")
    output: OutputSpec = Field(default_factory=OutputSpec, description="Output options.")

    @model_validator(mode="after")
    def _warmup_inside(self) -> Scenario:
        if self.warmup >= self.duration:
            raise ValueError(
                f"warmup ({self.warmup:g} s) must be shorter than duration ({self.duration:g} s)"
            )
        return self
