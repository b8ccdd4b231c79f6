"""A sweep point's verdict follows check's replication rule: the CI's far end is judged."""

from __future__ import annotations

from sim.qos.point_verdict import judge_point
from sim.scenario.schema import QosTarget

P95 = "requests.r.latency_s.p95"
UTIL = "sites.s.utilisation"


def test_upper_bound_is_judged_on_the_ci_upper_end() -> None:
    target = [QosTarget(metric=P95, max="100 ms")]
    assert judge_point(target, P95, 0.090, 0.080, 0.099) == [("<= 100 ms", True)]
    # The mean meets the bound but the interval reaches past it: not shown to hold.
    assert judge_point(target, P95, 0.090, 0.080, 0.101) == [("<= 100 ms", False)]


def test_lower_bound_on_the_ci_lower_end_and_both_sides() -> None:
    target = [QosTarget(metric=UTIL, min="20%", max=0.8)]
    assert judge_point(target, UTIL, 0.5, 0.25, 0.7) == [("<= 0.8", True), (">= 20%", True)]
    assert judge_point(target, UTIL, 0.5, 0.15, 0.7) == [("<= 0.8", True), (">= 20%", False)]


def test_one_replication_judges_the_mean_and_no_data_fails() -> None:
    target = [QosTarget(metric=P95, max="100 ms")]
    assert judge_point(target, P95, 0.099, None, None) == [("<= 100 ms", True)]
    assert judge_point(target, P95, None, None, None) == [("<= 100 ms", False)]
    assert judge_point(target, "other.metric", 1.0, 0.0, 2.0) == []
