"""Scenario schema of the edge services: placement, and learners with recommendations.

Configuration only, like :mod:`sim.scenario.schema`; the models in :mod:`edge`
read these objects (docs/edge.md).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from sim.scenario.plugin_name import PluginName
from sim.scenario.problems import Loc
from sim.scenario.quantities import (
    Duration,
    Fraction,
    PositiveDuration,
    PositiveRate,
    PositiveSize,
    Size,
)
from sim.scenario.references import THE_CLOUD, ReferenceChecker, quoted
from sim.scenario.schema import Arrivals
from sim.scenario.spec_base import Name, QuietSpec, Spec
from sim.scenario.workload_spec import WorkloadSpec

__all__ = ["CourseLearningSpec", "PlacementSpec", "RequestResponseSpec", "SettlementSpec"]


class PlacementSpec(Spec):
    """Which site serves each request, decided when the request is sent.

    The candidates are `sites`, or every MEC site that runs the job kind and the
    cloud (when it does); the policies read the sites' current queues, as an
    orchestrator with fresh load reports would (docs/edge.md).
    """

    policy: Annotated[str, PluginName("edge.placement:PLACEMENTS")] = Field(
        description="cloud_only, nearest_mec (least propagation delay), least_loaded "
        "(fewest jobs per server) or latency_aware (nearest site expected within `budget`).")
    budget: PositiveDuration | None = Field(
        None, description="Latency budget of latency_aware, for the `quantile` of a request's "
        "latency (network + queue + service) as estimated when it is sent.")
    quantile: float = Field(
        0.95, gt=0, lt=1, description="latency_aware: which quantile must meet the budget.")
    admission: Literal["redirect", "reject"] = Field(
        "redirect", description="latency_aware when no site is expected within the budget: "
        "redirect to the site expected to answer first, or reject the request.")
    sites: list[Name] | None = Field(
        None, min_length=1, description="Candidate sites; default: every MEC site running "
        "the job kind, and the cloud if it does.")

    @model_validator(mode="after")
    def _budget(self) -> PlacementSpec:
        if self.policy == "latency_aware" and self.budget is None:
            raise ValueError("latency_aware needs a `budget`")
        return self


    def check_references(self, checker: ReferenceChecker, index: int, job: str,
                         job_loc: Loc) -> None:
        """Named candidates must be sites running the job; cloud_only needs a cloud."""
        with_compute = checker.with_compute()
        if self.sites is None:
            names = [s for s in with_compute if job in checker.service_of(s)]
            if not names:
                checker.add(job_loc, f"no site has a service time for job kind {quoted(job)}")
                return
        else:
            names = []
            for j, name in enumerate(self.sites):
                loc: Loc = ("workloads", index, "placement", "sites", j)
                if not checker.is_node(loc, name, with_compute):
                    continue
                if name not in with_compute:
                    checker.add(loc, f"{quoted(name)} is not a mec or cloud node with compute")
                    continue
                checker.check_service(loc, [name], job)
                names.append(name)
        if self.policy == "cloud_only" and not any(checker.is_cloud(n) for n in names):
            checker.add(("workloads", index, "placement", "policy"),
                        f"cloud_only needs a cloud node running job kind {quoted(job)} "
                        "among the candidates")


class SettlementSpec(Spec):
    """Pay-by-completion: a ledger transaction sent when a learner finishes a course."""

    site: Name = Field("cloud", description='Site of the ledger: "cloud" or a site name.')
    job: Name = Field("settle", description="Job kind of a transaction at that site.")
    request_size: Size = Field(1000.0, description="Bytes of a transaction.")
    response_size: Size = Field(500.0, description="Bytes of its receipt.")


class CourseLearningSpec(WorkloadSpec, QuietSpec):
    """Learners who ask for recommendations, pick a course and stream it through a cache.

    Each learner loops: ask the recommendation service (a `job` placed by
    `placement`), take one of the `top_k` recommended courses with probability
    `follow` (else a course drawn from the Zipf popularity), stream its first
    `watch_segments` segments from the nearest MEC site's cache (misses come from
    `origin` over the backhaul), then pause for an exponential `think_time`.
    With `prefetch_segments` > 0 the MEC site pushes the first segments of every
    recommended course into its cache as soon as the answer leaves.
    """

    quiet: ClassVar[tuple[str, ...]] = ("recommender",)

    kind: Literal["course_learning"]
    name: Name = Field(description="Workload name; the label in results.")
    clients: list[Name] = Field(min_length=1, description="User groups of learners.")
    courses: int = Field(200, ge=1, description="Courses in the catalogue.")
    segments: int = Field(30, ge=1, description="Segments per course.")
    segment_duration: PositiveDuration = Field(4.0, description="Media time per segment.")
    bitrate: PositiveRate = Field(3e6, description="Bitrate the courses are watched at.")
    alpha: float = Field(0.8, ge=0, description="Zipf exponent of course popularity.")
    drift_fraction: float = Field(
        0.0, ge=0, le=1, description="Share of courses whose ranks reshuffle at each drift.")
    drift_interval: PositiveDuration | None = Field(
        None, description="Time between popularity drifts; default: no drift.")
    watch_segments: int = Field(10, ge=1, description="Segments watched per course.")
    think_time: Duration = Field(
        20.0, description="Mean (exponential) pause between a course and the next request.")
    top_k: int = Field(5, ge=1, description="Courses in a recommendation.")
    follow: Fraction = Field(
        0.6, description="Probability that a learner takes a recommended course.")
    job: Name = Field("recommend", description="Job kind of a recommendation (inference).")
    batch_size: int = Field(
        1, ge=1, description="Requests a site infers together (1: no batching).")
    batch_wait: Duration = Field(
        0.01, description="Longest a request waits at the site for its batch to fill.")
    batch_marginal: float = Field(
        0.1, ge=0, description="Service time of a batch of n: one draw x (1 + marginal (n - 1)).")
    request_size: Size = Field(2000.0, description="Bytes of a recommendation request.")
    response_size: Size = Field(10000.0, description="Bytes of a recommendation answer.")
    placement: PlacementSpec = Field(
        default_factory=lambda: PlacementSpec(policy="nearest_mec"),
        description="Where each recommendation is computed.")
    recommender: Annotated[str, PluginName("edge.recommender:RECOMMENDERS")] = Field(
        "item_cosine", description="Recommender fitted on the synthetic learner x course "
        "matrix: item_cosine (item-based collaborative filtering) or popularity (the most "
        "watched courses not yet taken); see docs/edge.md.")
    cache: Annotated[str, PluginName("edge.cache:CACHES")] = Field(
        "lru", description="Cache policy at MEC sites: lru, lfu, fifo, or static_top_k (the "
        "most popular watched segments at the start of the run, fixed; misses are never "
        "admitted).")
    cache_size: Size = Field(2e9, description="Cache capacity at each MEC site, bytes.")
    prefetch_segments: int = Field(
        0, ge=0, description="Segments of each recommended course to prefetch; 0: none.")
    prefetch_courses: int = Field(
        2, ge=1, description="How many of the recommended courses (best first) to prefetch.")
    origin: Name = Field("cloud", description='Origin of the courses: "cloud" or a site name.')
    segment_request_size: PositiveSize = Field(500.0, description="Bytes of a segment request.")
    settlement: SettlementSpec | None = Field(
        None, description="Send a ledger transaction on each completed course.")
    start: Duration = Field(0.0, description="Earliest first request.")
    start_spread: Duration = Field(
        10.0, description="First requests start uniformly in [start, start + start_spread].")

    @model_validator(mode="after")
    def _watchable(self) -> CourseLearningSpec:
        if self.watch_segments > self.segments:
            raise ValueError(f"watch_segments ({self.watch_segments}) must not exceed "
                             f"segments ({self.segments})")
        if self.top_k > self.courses:
            raise ValueError(f"top_k ({self.top_k}) must not exceed courses ({self.courses})")
        if self.cache == "static_top_k" and self.prefetch_segments:
            raise ValueError("a static_top_k cache admits nothing: prefetch_segments must be 0")
        return self

    def check_references(self, index: int, checker: ReferenceChecker) -> None:
        checker.check_clients(index, self.clients)
        checker.check_store(("workloads", index, "origin"), self.origin, "origin")
        if not checker.has_mec():
            checker.add(("workloads", index, "clients"), "the caches need at least one mec node")
        self.placement.check_references(checker, index, self.job, ("workloads", index, "job"))
        if self.settlement is not None:
            loc: Loc = ("workloads", index, "settlement", "site")
            ledger = checker.resolve_site(loc, self.settlement.site, "settlement")
            if ledger is not None:
                checker.check_service(("workloads", index, "settlement", "job"), ledger,
                                      self.settlement.job)


class RequestResponseSpec(WorkloadSpec):
    """Users send requests to a compute site and wait for the response."""

    kind: Literal["request_response"]
    name: Name = Field(description="Workload name; the class label in results.")
    clients: list[Name] = Field(min_length=1, description="User groups that send requests.")
    arrivals: Arrivals = Field(description="Request arrival process of each user.")
    request_size: Size = Field(description="Bytes sent from the user to the site.")
    response_size: Size = Field(description="Bytes sent back to the user.")
    serve: Name = Field(
        "nearest_mec",
        description='"nearest_mec" (least latency MEC site with compute), "cloud", '
        "or a node name.",
    )
    forward_fraction: Fraction = Field(
        0.0, description="Fraction of requests the serving MEC site forwards to `forward_to`."
    )
    forward_to: Name = Field("cloud", description='"cloud" or the name of a site with compute.')
    job: Name | None = Field(None, description="Job kind at the site; default: the workload name.")
    priority: int = Field(0, description="Priority at sites with the priority discipline.")
    start: Duration = Field(0.0, description="When the users start sending.")
    placement: PlacementSpec | None = Field(
        None, description="Choose the site per request (instead of `serve`); see docs/edge.md.")

    @model_validator(mode="after")
    def _one_way_to_place(self) -> RequestResponseSpec:
        if self.placement is not None and self.forward_fraction > 0:
            raise ValueError("give either `placement` or `forward_fraction`, not both")
        return self

    @property
    def job_kind(self) -> str:
        return self.job or self.name

    def check_references(self, index: int, checker: ReferenceChecker) -> None:
        checker.check_clients(index, self.clients)
        job_loc: Loc = ("workloads", index, "job" if self.job is not None else "name")
        if self.placement is not None:
            self.placement.check_references(checker, index, self.job_kind, job_loc)
            return
        served = checker.check_compute(index, self.serve, self.job_kind, job_loc)
        forwarding = self.forward_fraction > 0
        if forwarding or self.forward_to != THE_CLOUD:
            target = checker.resolve_site(("workloads", index, "forward_to"), self.forward_to,
                                          "forward_to")
            if target is not None and forwarding:
                checker.check_service(job_loc, [s for s in target if s not in (served or [])],
                                      self.job_kind)
