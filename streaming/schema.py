"""Scenario schema of the streams: course video on demand, VR lessons, live classes.

Configuration only, like :mod:`sim.scenario.schema`; the models in
:mod:`streaming` read these objects.  Defaults are the figures docs/streaming.md
names with their sources.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from sim.scenario.plugin_name import PluginName
from sim.scenario.problems import Loc
from sim.scenario.quantities import (
    Duration,
    Frequency,
    PositiveDuration,
    PositiveRate,
    PositiveSize,
    Size,
)
from sim.scenario.references import ReferenceChecker, quoted
from sim.scenario.spec_base import Name, QuietSpec, Spec
from sim.scenario.workload_spec import WorkloadSpec

__all__ = ["AbrSpec", "CourseVideoSpec", "FrameStreamSpec", "LiveClassSpec", "QoeSpec",
           "VrLessonSpec"]


class AbrSpec(Spec):
    """The adaptive-bitrate policy of every session of a video workload."""

    name: Annotated[str, PluginName("streaming.abr:ABR")] = Field(
        "throughput", description="throughput (rate-based), bba (buffer-based BBA-0), "
        "bola (BOLA-BASIC), bola_e (BOLA-E of the DASH reference player), dynamic "
        "(dash.js DYNAMIC: throughput at low buffer, BOLA-E above 10 s) or fixed (one "
        "level); see docs/streaming.md.")
    params: dict[str, float | int | bool | str] = Field(
        default_factory=dict,
        description="Keyword parameters of the policy, e.g. {safety: 0.9, window: 5, "
        "estimator: ewma} for throughput (estimator harmonic, mean or ewma), {reservoir: "
        "0.2, cushion: 0.6, hysteresis: true} for bba (fractions of max_buffer), "
        "{gamma_p: 5} for bola, bola_e and dynamic (buffer_capacity defaults to "
        "max_buffer), {level: 3} for fixed; plain SI numbers.")


class QoeSpec(Spec):
    """Weights of the linear QoE of Yin et al. (SIGCOMM 2015) reported per session."""

    utility: Literal["linear", "log"] = Field(
        "linear", description="q(R): R in Mbit/s (linear) or ln(R / R_min) (log).")
    switch_weight: float = Field(1.0, ge=0, description="lambda: weight of quality switches.")
    rebuffer_weight: float | None = Field(
        None, ge=0, description="mu: penalty per second of stall; default q(R_max).")
    startup_weight: float | None = Field(
        None, ge=0, description="mu_s: penalty per second of startup delay; default q(R_max).")


class CourseVideoSpec(WorkloadSpec, QuietSpec):
    """Video on demand: each user watches one course video with adaptive bitrate.

    Each user of `clients` starts one session at a time drawn uniformly from
    [start, start + start_spread] and fetches `segments` segments one after another
    from the serving site, which serves them from storage (no compute job).
    """

    quiet: ClassVar[tuple[str, ...]] = ("manifest",)
    kind: Literal["course_video"]
    name: Name = Field(description="Workload name; the label in results.")
    clients: list[Name] = Field(min_length=1, description="User groups that watch the video.")
    serve: Name = Field(
        "nearest_mec",
        description='"nearest_mec" (least latency MEC site), "cloud", or a node name.',
    )
    start: Duration = Field(0.0, description="Earliest session start.")
    start_spread: Duration = Field(
        0.0, description="Sessions start uniformly in [start, start + start_spread].")
    segments: int | None = Field(
        None, ge=1, description="Segments per session (the video's length); default: "
        "every segment of the `manifest` (required without one).")
    segment_duration: PositiveDuration = Field(
        2.0, description="Media time per segment (a JSON manifest gives its own).")
    ladder: list[PositiveRate] | None = Field(
        None, min_length=1, description="Bitrates of the quality levels, ascending, e.g. "
        '["1 Mbps", "3 Mbps"]; default: the 240p..2160p HLS ladder (145 kbps..16.8 Mbps). '
        "A segment is bitrate x duration.")
    manifest: str | None = Field(
        None, description="A video manifest with every segment's actual size at every "
        "level, instead of `ladder`, relative to the scenario file: JSON in the layout of "
        "../shared/traces/sabre/bbb.json (segment_duration_ms, bitrates_kbps, "
        "segment_sizes_bits), or CSV (a header of the levels' bitrates in bit/s, then one "
        "row of sizes in bytes per segment; segment_duration from this workload).")
    abr: AbrSpec = Field(default_factory=AbrSpec, description="Adaptive-bitrate policy.")
    startup_threshold: Duration | None = Field(
        None, description="Media buffered before playback starts; default one segment.")
    max_buffer: PositiveDuration = Field(30.0, description="Playback buffer capacity.")
    request_size: Size = Field(500.0, description="Bytes of each segment request.")
    qoe: QoeSpec = Field(default_factory=QoeSpec, description="QoE weights.")

    @model_validator(mode="after")
    def _ascending(self) -> CourseVideoSpec:
        if self.manifest is not None and self.ladder is not None:
            raise ValueError("give either `ladder` or `manifest`, not both")
        if self.manifest is None and self.segments is None:
            raise ValueError("give `segments` (the video's length), or a `manifest`")
        if self.ladder is not None and any(b <= a for a, b in zip(
                self.ladder, self.ladder[1:], strict=False)):
            raise ValueError("ladder bitrates must be strictly ascending")
        if self.max_buffer < self.segment_duration:
            raise ValueError(f"max_buffer ({self.max_buffer:g} s) must hold one segment "
                             f"({self.segment_duration:g} s)")
        return self

    def check_references(self, index: int, checker: ReferenceChecker) -> None:
        checker.check_clients(index, self.clients)
        checker.check_store(("workloads", index, "serve"), self.serve, "serve")



class FrameStreamSpec(Spec):
    """What every real-time frame stream has: frame rate, bitrate and its GOP structure.

    A group of pictures (GOP) is one key frame and ``gop - 1`` delta frames; a key
    frame is ``key_ratio`` times as large as a delta frame, and the mean frame is
    ``bitrate / frame_rate``.
    """

    frame_rate: Frequency = Field(60.0, description='Frames per second, e.g. "60 fps".')
    bitrate: PositiveRate = Field(description='Encoded video bitrate, e.g. "30 Mbps".')
    gop: int = Field(60, ge=1, description="Frames per group of pictures (key-frame interval).")
    key_ratio: float = Field(
        5.0, ge=1, description="Size of a key frame over the size of a delta frame.")
    encode: Duration = Field(0.004, description="Encoding time per frame.")
    decode: Duration = Field(0.003, description="Decoding time per frame at the receiver.")
    start: Duration = Field(0.0, description="Earliest session start.")
    start_spread: Duration = Field(
        0.0, description="Sessions start uniformly in [start, start + start_spread].")
    session: PositiveDuration | None = Field(
        None, description="Length of each session; default: until the end of the run.")
    packet_size: PositiveSize = Field(
        1200.0, description="Payload per packet; a frame is lost when one of its packets is "
        "lost on a lossy link (no retransmission, unless a live class has `retransmission: "
        "nack`).")


class VrLessonSpec(FrameStreamSpec, WorkloadSpec):
    """VR lessons: remote-rendered interactive VR, or 360-degree video.

    ``rendered``: every frame interval the headset sends its pose up to the
    rendering site, which renders (a `job` on its compute, e.g. a GPU slot),
    encodes and sends the frame down; the headset decodes and displays it.  Its
    motion-to-photon latency runs from the pose sample to the display.
    ``video360``: the site streams a 360-degree video (whole frames, or the
    viewport's tiles: `viewport_fraction` of the bitrate) at the frame rate, with
    no pose or render; the latency runs from the site's send to the display.
    """

    kind: Literal["vr_lesson"]
    lock_step_users: ClassVar[str | None] = "clients"
    name: Name = Field(description="Workload name; the label in results.")
    clients: list[Name] = Field(min_length=1, description="User groups wearing headsets.")
    mode: Literal["rendered", "video360"] = Field(
        "rendered", description="rendered (interactive, rendered at the site) or video360.")
    serve: Name = Field(
        "nearest_mec", description='Rendering/streaming site: "nearest_mec", "cloud" or a '
        "node name (with compute running `job` when rendered).")
    job: Name = Field("vr_render", description="Job kind of a frame's render (rendered mode).")
    bitrate: PositiveRate = Field(30e6, description="Encoded video bitrate.")
    pose_size: PositiveSize = Field(100.0, description="Bytes of each pose update (rendered).")
    viewport_fraction: float = Field(
        1.0, gt=0, le=1, description="Share of the 360 frame sent (tiles in view; video360).")
    display: Duration = Field(0.0, description="Display delay after decoding (e.g. scan-out).")
    deadline: PositiveDuration = Field(
        0.020, description="Latency budget of a frame (motion-to-photon when rendered); a "
        "later frame is a deadline miss.")

    def check_references(self, index: int, checker: ReferenceChecker) -> None:
        checker.check_clients(index, self.clients)
        if self.mode == "video360":
            checker.check_store(("workloads", index, "serve"), self.serve, "serve")
        else:
            checker.check_compute(index, self.serve, self.job, ("workloads", index, "job"))



class LiveClassSpec(FrameStreamSpec, WorkloadSpec, QuietSpec):
    """A teacher's real-time stream relayed to students, like a WebRTC SFU.

    The teacher (member 0 of `teacher`) captures a frame every frame interval,
    encodes it and sends it up to the relay once; the relay forwards each frame to
    every student (one downlink flow per student), who decodes and displays it.
    Glass-to-glass latency runs from capture to display.  A frame is lost when a
    packet of it is lost on its way (no retransmission) or when it comes later
    than `max_latency`.  With ``congestion: aimd`` the teacher's encoder backs off
    when the uplink's queueing delay grows (see docs/streaming.md).  With
    ``jitter_buffer: aiortc`` the relay and every student hold each frame as
    aiortc's jitter buffer does, and with ``retransmission: nack`` a frame with lost
    packets comes one round trip later instead of being lost (streaming/receive.py).
    """

    quiet: ClassVar[tuple[str, ...]] = ("jitter_buffer", "retransmission")
    kind: Literal["live_class"]
    lock_step_users: ClassVar[str | None] = "students"
    name: Name = Field(description="Workload name; the label in results.")
    teacher: Name = Field(description="User group of the teacher (its first member sends).")
    students: list[Name] = Field(min_length=1, description="User groups that watch.")
    relay: Name = Field(
        "nearest_mec", description='Relay site: "nearest_mec" (nearest to the teacher), '
        '"cloud" or a node name; it forwards frames and needs no compute.')
    frame_rate: Frequency = Field(30.0, description='Frames per second, e.g. "30 fps".')
    bitrate: PositiveRate = Field(2.5e6, description="Target video bitrate of the teacher.")
    gop: int = Field(300, ge=1, description="Frames per group of pictures (key-frame interval).")
    relay_delay: Duration = Field(0.001, description="Forwarding time per frame at the relay.")
    max_latency: PositiveDuration = Field(
        0.4, description="Frames later than this are dropped by the receiver (lost).")
    congestion: Literal["none", "aimd"] = Field(
        "none", description="none (constant bitrate) or aimd (delay-based back-off).")
    min_bitrate: PositiveRate = Field(3e5, description="Lowest bitrate aimd goes down to.")
    deadline: PositiveDuration | None = Field(
        None, description="Latency budget counted as a miss; default `max_latency`.")
    jitter_buffer: Literal["none", "aiortc"] = Field(
        "none", description="none (a frame is decoded when its last byte arrives) or "
        "aiortc (at the relay and at each student a frame is released when it is complete "
        "and the next frame's first packet has arrived, in order: about one frame interval "
        "per buffer, as on the live path).")
    retransmission: Literal["none", "nack"] = Field(
        "none", description="none (a frame with a lost packet is lost) or nack (the "
        "receiver asks once for the lost packets: the frame is complete one round trip of "
        "the leg later, plus the resent packets' transfer, and lost only if the NACK or a "
        "resent packet is lost too or it comes later than `max_latency`).")

    @model_validator(mode="after")
    def _bitrates(self) -> LiveClassSpec:
        if self.min_bitrate > self.bitrate:
            raise ValueError(f"min_bitrate ({self.min_bitrate:g} bit/s) must not exceed "
                             f"bitrate ({self.bitrate:g} bit/s)")
        return self

    def check_references(self, index: int, checker: ReferenceChecker) -> None:
        groups = checker.groups()
        is_group = set(groups)  # linear in the students, not quadratic
        loc: Loc = ("workloads", index, "teacher")
        if checker.is_node(loc, self.teacher, groups) and self.teacher not in is_group:
            checker.not_a_group(loc, self.teacher)
        for j, group in enumerate(self.students):
            sloc: Loc = ("workloads", index, "students", j)
            if checker.is_node(sloc, group, groups) and group not in is_group:
                checker.not_a_group(sloc, group)
            elif group == self.teacher:
                checker.add(sloc, f"{quoted(group)} is the teacher's group; students watch the "
                                  "teacher from groups of their own")
        checker.check_store(("workloads", index, "relay"), self.relay, "relay")
