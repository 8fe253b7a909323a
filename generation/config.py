"""Settings of SR generation: the question generators' (:class:`GeneratorConfig`, used by
:mod:`~spatial_r1_eval.generation.generators`) and the selection's (:class:`FilterConfig`, used by
:mod:`~spatial_r1_eval.generation.filters`, which re-exports it).

The generator defaults follow the paper; ``variant="vsibench"`` switches every procedure to VSI-Bench's. The ``help``
metadata of each field is the help text of its ``spatial-r1 generate`` flag
(:mod:`~spatial_r1_eval.generation.config_flags`). This module imports nothing heavy, so the command line's
``--help`` stays fast.

>>> GeneratorConfig().variant, GeneratorConfig(variant="vsibench").route_max_turns
('paper', 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Generator procedures: the paper's (default) or VSI-Bench's.
VARIANTS = ("paper", "vsibench")


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator settings (defaults = the paper; ``variant="vsibench"`` switches every procedure to VSI-Bench)."""

    variant: str = field(
        default="paper",
        metadata={
            "help": "generator procedures: the paper's or VSI-Bench's (boxes, distances, room area, rules)",
            "choices": VARIANTS,
        },
    )
    floor_height: float = field(default=0.10, metadata={"help": "floor points: z within this (m) above the minimum"})
    room_alpha: float = field(default=2.0, metadata={"help": "alpha of the paper's floor alpha shape (1/m)"})
    vsibench_room_alpha: float = field(default=5.0, metadata={"help": "alpha of VSI-Bench's room alpha shape"})
    vsibench_room_samples: int = field(default=10_000, metadata={"help": "points sampled for VSI-Bench room size"})
    min_abs_distance: float = field(default=0.2, metadata={"help": "skip pairs closer than this (m)"})
    rel_distance_margin: float = field(default=0.15, metadata={"help": "ambiguity margin between distances (m)"})
    rel_distance_margin_large_room: float = field(default=0.30, metadata={"help": "margin in rooms > large_room"})
    large_room: float = field(default=40.0, metadata={"help": "room area (m^2) above which the larger margin applies"})
    rel_distance_min: float = field(default=0.15, metadata={"help": "reject when the closest object is nearer (m)"})
    direction_min_distance: float = field(default=0.3, metadata={"help": "reject triplets with a pair nearer (m)"})
    direction_max_distance: float = field(default=5.0, metadata={"help": "reject triplets with a pair farther (m)"})
    direction_margin_deg: float = field(default=10.0, metadata={"help": "reject angles this close to a boundary"})
    appearance_min_pixels: int = field(default=100, metadata={"help": "pixels a category needs to count as seen"})
    appearance_min_gap_s: float = field(default=1.0, metadata={"help": "first appearances at least this far apart"})
    appearance_label_stride: int = field(
        default=5, metadata={"help": "read label images at this stride, refined where a category appears"}
    )
    max_candidates: int = field(default=40, metadata={"help": "candidates examined per scene and question type"})
    route_cell: float = field(default=0.05, metadata={"help": "occupancy grid cell of route planning (m)"})
    route_clearance: float = field(default=0.2, metadata={"help": "free space a route leg keeps around it (m)"})
    route_walk_margin: float = field(
        default=0.12, metadata={"help": "reject legs whose grid clearance is this close to route_clearance (m)"}
    )
    route_min_leg: float = field(default=0.5, metadata={"help": "reject route legs shorter than this (m)"})
    route_max_obstacle_bottom: float = field(
        default=1.5, metadata={"help": "objects starting higher above the floor are no obstacles (m)"}
    )
    route_back_deg: float = field(default=135.0, metadata={"help": "a heading change beyond this is 'Turn Back'"})
    route_margin_deg: float = field(default=15.0, metadata={"help": "reject turns this close to 0 or back_deg"})
    route_max_turns: int = field(default=3, metadata={"help": "turns per route (1..4)"})

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"GeneratorConfig.variant must be one of {VARIANTS}, got {self.variant!r}")
        for name in ("floor_height", "room_alpha", "vsibench_room_alpha", "direction_max_distance"):
            if not getattr(self, name) > 0:
                raise ValueError(f"GeneratorConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if self.appearance_label_stride < 1:
            stride = self.appearance_label_stride
            raise ValueError(f"GeneratorConfig.appearance_label_stride must be >= 1, got {stride}")
        if self.max_candidates < 1 or self.vsibench_room_samples < 4:
            raise ValueError("GeneratorConfig.max_candidates must be >= 1 and vsibench_room_samples >= 4")
        margin = self.direction_margin_deg
        if not 0 <= margin < 45:
            raise ValueError(f"GeneratorConfig.direction_margin_deg must be in [0, 45), got {margin}")
        for name in ("route_cell", "route_clearance", "route_min_leg"):
            if not getattr(self, name) > 0:
                raise ValueError(f"GeneratorConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.route_walk_margin < self.route_clearance:
            raise ValueError("GeneratorConfig.route_walk_margin must be in [0, route_clearance)")
        if not 0 <= self.route_margin_deg < min(self.route_back_deg / 2, 180 - self.route_back_deg):
            raise ValueError(
                "GeneratorConfig.route_margin_deg must be >= 0 and leave the left/right and back sectors non-empty"
            )
        if not 1 <= self.route_max_turns <= 4:
            raise ValueError(f"GeneratorConfig.route_max_turns must be in 1..4, got {self.route_max_turns}")


@dataclass(frozen=True)
class FilterConfig:
    """Caps and seed of the selection."""

    per_scene_cap: int = field(default=10, metadata={"help": "questions per scene and question type"})
    max_per_task: int | None = field(default=None, metadata={"help": "questions per question type overall"})
    seed: int = field(default=0, metadata={"help": "seed of every random choice (generation, caps and letters)"})

    def __post_init__(self) -> None:
        if self.per_scene_cap < 1:
            raise ValueError(f"FilterConfig.per_scene_cap must be >= 1, got {self.per_scene_cap}")
        if self.max_per_task is not None and self.max_per_task < 1:
            raise ValueError(f"FilterConfig.max_per_task must be >= 1, got {self.max_per_task}")
