"""Scenario schema of the 5G radio access: cells, layouts, UE radio settings.

Configuration only, like :mod:`sim.scenario.schema`; the models in
:mod:`sim.radio` read these objects.  Defaults follow the 3GPP evaluation
assumptions planners know (TR 38.901 heights, TR 38.802 / ITU-R M.2412 powers and
noise figures) and are named in docs/radio.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from sim.scenario.plugin_name import PluginName
from sim.scenario.quantities import (
    Angle,
    Coordinate,
    Decibel,
    Duration,
    Frequency,
    Length,
    NonNegativeDecibel,
    PositiveDuration,
    PositiveLength,
    PowerLevel,
    Probability,
    Speed,
)

__all__ = [
    "CellDefaults",
    "CellSpec",
    "HandoverSpec",
    "HexLayoutSpec",
    "MobilitySpec",
    "PlacementSpec",
    "RadioSpec",
    "UeRadioSpec",
]

RadioName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)
]
Point = tuple[Coordinate, Coordinate]
Bounds = tuple[Coordinate, Coordinate, Coordinate, Coordinate]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DuplexSpec(_Spec):
    """FDD, or TDD with a slot pattern that gives the downlink/uplink time split."""

    mode: Literal["fdd", "tdd"] = Field("tdd", description="fdd or tdd.")
    pattern: Annotated[str, StringConstraints(pattern=r"^[DSU]+$")] = Field(
        "DDDSU", description='TDD slot pattern of D, S and U slots, e.g. "DDDSU".')


class CellDefaults(_Spec):
    """Radio parameters of a cell (gNB sector); also the defaults of a layout's cells."""

    carrier: Frequency = Field(3.5e9, description='Carrier frequency, e.g. "3.5 GHz".')
    bandwidth: Frequency = Field(100e6, description='Channel bandwidth, e.g. "100 MHz".')
    numerology: int = Field(1, ge=0, le=3,
                            description="mu: subcarrier spacing 15 * 2^mu kHz, slot 1/2^mu ms.")
    tx_power: PowerLevel = Field(46.0, description='Total transmit power, e.g. "46 dBm".')
    height: PositiveLength | None = Field(
        None, description="Antenna height (default: TR 38.901's for the deployment: UMa 25 m, "
        "UMi 10 m, RMa 35 m, InH 3 m).")
    deployment: Annotated[str, PluginName("sim.radio.pathloss:PATHLOSS")] = Field(
        "UMa", description="TR 38.901 scenario of the path-loss model.")
    duplex: DuplexSpec = Field(default_factory=DuplexSpec, description="Duplex mode.")
    layers: int = Field(2, ge=1, le=8, description="Downlink MIMO layers.")
    uplink_layers: int = Field(1, ge=1, le=4, description="Uplink MIMO layers.")
    cqi_table: Literal["qam64", "qam256"] = Field(
        "qam256", description="TS 38.214 CQI table (Table 5.2.2.1-2 or -3).")
    downtilt: Angle = Field(0.0, description="Electrical downtilt of a sector antenna.")
    attach: RadioName | None = Field(
        None, description="Node (MEC site or router) the cell's backhaul ends at.")


class CellSpec(CellDefaults):
    """One cell at an explicit position."""

    name: RadioName = Field(description="Unique cell name.")
    position: Point = Field(description="[x, y] in metres.")
    azimuth: Angle | None = Field(
        None, description="Boresight of a sector antenna (TR 38.901 pattern); absent = omni.")


class HexLayoutSpec(CellDefaults):
    """Cells generated on a hexagonal grid: ring 0 is the centre site, ring k has 6k."""

    rings: int = Field(1, ge=0, le=6, description="Rings of sites around the centre.")
    isd: PositiveLength = Field(500.0, description="Inter-site distance.")
    sectors: Literal[1, 3] = Field(3, description="1 (omni) or 3 sectors per site.")
    center: Point = Field((0.0, 0.0), description="Position of the centre site.")
    prefix: RadioName = Field("cell", description="Cell names are <prefix><site>-<sector>.")


class HandoverSpec(_Spec):
    """A3-event handover (TS 38.331): neighbour better than serving + hysteresis for TTT."""

    hysteresis: NonNegativeDecibel = Field(3.0, description="A3 hysteresis.")
    offset: Decibel = Field(0.0, description="A3 offset.")
    time_to_trigger: Duration = Field(0.16, description="Time to trigger.")
    interruption: Duration = Field(
        0.03, description="Interruption time during which the UE's flows stall.")


class RadioSpec(_Spec):
    """The radio access network: cells, their scheduler, handover and update interval."""

    cells: list[CellSpec] = Field(default_factory=list, description="Cells at given positions.")
    layout: HexLayoutSpec | None = Field(None, description="Generated hexagonal layout.")
    scheduler: Annotated[str, PluginName("sim.radio.scheduler:SCHEDULERS")] = Field(
        "proportional_fair", description="Cell scheduler.")
    pf_window: PositiveDuration = Field(
        1.0, description="Averaging window of the proportional fair scheduler.")
    update_interval: PositiveDuration = Field(
        1.0, description="Interval of the radio update (mobility, channel, handover).")
    handover: HandoverSpec = Field(default_factory=HandoverSpec, description="Handover.")
    los: Literal["auto", "los", "nlos"] = Field(
        "auto", description="Line of sight: drawn from the TR 38.901 probability, or forced.")
    shadowing: bool = Field(True, description="Log-normal shadow fading, correlated in space.")
    bler: Probability = Field(0.1, description="Target block error rate of HARQ.")
    gnb_noise_figure: NonNegativeDecibel = Field(5.0, description="Receiver noise figure of "
                                                 "the gNB (uplink).")
    channel_step: PositiveLength | None = Field(
        None, description="A UE's channel is recomputed when it has moved this far "
        "(default: a tenth of the smallest shadowing decorrelation distance).")
    ue_sample_interval: PositiveDuration = Field(
        10.0, description="Interval of the per-UE SINR/CQI records.")

    @model_validator(mode="after")
    def _has_cells(self) -> RadioSpec:
        if not self.cells and self.layout is None:
            raise ValueError("give `cells`, a `layout`, or both")
        return self


class StaticMobility(_Spec):
    """UEs stay where they were placed."""

    model: Literal["static"]


class StraightLineMobility(_Spec):
    """Each UE moves on a straight line at a constant speed."""

    model: Literal["straight_line"]
    heading: Angle = Field(description="Direction of travel (0 = +x, 90 = +y).")
    speed: Speed = Field(description='Speed, e.g. "1.4 m/s" or "30 km/h".')


class RandomWaypointMobility(_Spec):
    """Random waypoint in an area: straight legs at random speeds with pauses."""

    model: Literal["random_waypoint"]
    area: Bounds = Field(description="[x_min, y_min, x_max, y_max] in metres.")
    speed_min: Speed = Field(0.5, description="Lowest leg speed (> 0).")
    speed_max: Speed = Field(1.5, description="Highest leg speed.")
    pause: Duration = Field(0.0, description="Pause at each waypoint.")

    @model_validator(mode="after")
    def _speeds(self) -> RandomWaypointMobility:
        if not 0 < self.speed_min <= self.speed_max:
            raise ValueError("need 0 < speed_min <= speed_max (RWP with speed 0 never settles)")
        return self


class TraceMobility(_Spec):
    """Positions from a CSV file (time_s, ue, x_m, y_m), interpolated linearly."""

    model: Literal["trace"]
    file: str = Field(description="CSV path, relative to the scenario file.")


MobilitySpec = Annotated[
    StaticMobility | StraightLineMobility | RandomWaypointMobility | TraceMobility,
    Field(discriminator="model"),
]


class ExplicitPlacement(_Spec):
    """Positions listed one per UE."""

    kind: Literal["explicit"]
    positions: list[Point] = Field(min_length=1, description="[[x, y], ...] in metres.")


class DiscPlacement(_Spec):
    """Uniform in a disc around a point or a cell."""

    kind: Literal["disc"]
    center: Point | RadioName = Field(description="[x, y] in metres, or a cell name.")
    radius: Length = Field(description="Disc radius.")


class AreaPlacement(_Spec):
    """Uniform in a rectangle."""

    kind: Literal["area"]
    area: Bounds = Field(description="[x_min, y_min, x_max, y_max] in metres.")


class HotspotPlacement(_Spec):
    """Gaussian clusters around hotspot centres, clipped to an area."""

    kind: Literal["hotspots"]
    centers: list[Point] = Field(min_length=1, description="Hotspot centres.")
    weights: list[float] | None = Field(None, description="Relative weights (default equal).")
    spread: Length = Field(20.0, description="Standard deviation on each axis.")
    area: Bounds = Field(description="[x_min, y_min, x_max, y_max] in metres.")


PlacementSpec = Annotated[
    ExplicitPlacement | DiscPlacement | AreaPlacement | HotspotPlacement,
    Field(discriminator="kind"),
]


class UeRadioSpec(_Spec):
    """How a user group reaches the network over the radio instead of a fixed link."""

    placement: PlacementSpec = Field(description="Where the UEs start.")
    mobility: MobilitySpec = Field(default_factory=lambda: StaticMobility(model="static"),
                                   description="How they move.")
    height: PositiveLength = Field(1.5, description="UE antenna height.")
    noise_figure: NonNegativeDecibel = Field(9.0, description="UE receiver noise figure.")
    tx_power: PowerLevel = Field(23.0, description="UE transmit power (uplink).")
    full_buffer: bool = Field(
        False, description="Always has data in both directions (saturating traffic).")
