"""The SR question generators: the paper's seven (§2.2) and route planning (:mod:`~spatial_r1_eval.generation.routes`),
with VSI-Bench's procedure as the ``vsibench`` variant.

Every generator takes a :class:`~spatial_r1_eval.generation.scene.Scene` and returns :class:`Candidate` questions
plus a count of rejected candidates by reason. A candidate holds the question, its answer (the number, or the text
of the correct option) and, for multiple choice, the option texts in a canonical order; letters are assigned later,
over the whole dataset, so that answers are balanced over A–D (route planning: per option count;
:mod:`~spatial_r1_eval.generation.filters`).

Defaults follow the paper (DESIGN.md "The seven SR generators"): axis-aligned boxes, exact box distances, room area
as the sum of the floor alpha shape's triangles, left/right from the sign of the 2-D cross product. ``variant=
"vsibench"`` follows VSI-Bench as verified against its metadata: minimal oriented boxes, distances on a 5 cm grid
inside each box, room area of the ``alphashape`` polygon of 10 000 sampled points, its direction sectors and
ambiguity rules. The answer functions (``object_size_cm``, ``room_size_m2``, :class:`DistanceCache`,
``direction_label``) are shared with ``validate-vsibench``.
"""

from __future__ import annotations

import itertools
import logging
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from spatial_r1_eval import questions
from spatial_r1_eval.generation import geometry, routes
from spatial_r1_eval.generation.alpha_shape import room_area_paper, room_area_vsibench
from spatial_r1_eval.generation.scene import Frame, Scene, SceneObject
from spatial_r1_eval.generation.templates import DIRECTION_CHOICES, TEMPLATES

logger = logging.getLogger(__name__)

#: Question types we generate (VSI-Bench names).
QUESTION_TYPES: tuple[str, ...] = (
    "object_counting",
    "object_size_estimation",
    "room_size_estimation",
    "object_abs_distance",
    "object_rel_distance",
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
    "obj_appearance_order",
    "route_planning",
)
#: Task (the paper's seven and route planning; ``--tasks`` names) -> its question types.
TASKS: dict[str, tuple[str, ...]] = {
    "object_counting": ("object_counting",),
    "object_size_estimation": ("object_size_estimation",),
    "room_size_estimation": ("room_size_estimation",),
    "object_abs_distance": ("object_abs_distance",),
    "object_rel_distance": ("object_rel_distance",),
    "object_rel_direction": (
        "object_rel_direction_easy",
        "object_rel_direction_medium",
        "object_rel_direction_hard",
    ),
    "obj_appearance_order": ("obj_appearance_order",),
    "route_planning": ("route_planning",),
}
#: Numerical question types: the core's definition (one vocabulary for generation, tasks and scoring).
NUMERICAL_TYPES = questions.NUMERICAL
#: Structural or ill-defined labels that never become question targets.
STRUCTURAL_LABELS = frozenset(
    {
        "wall",
        "walls",
        "floor",
        "ceiling",
        "object",
        "objects",
        "otherstructure",
        "otherfurniture",
        "otherprop",
        "structure",
        "remove",
        "unknown",
        "unlabeled",
        "unlabelled",
        "misc",
        "stuff",
    }
)
VARIANTS = ("paper", "vsibench")


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator settings (defaults = the paper; ``variant="vsibench"`` switches every procedure to VSI-Bench)."""

    variant: str = field(default="paper", metadata={"help": "'paper' (default) or 'vsibench'"})
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


@dataclass
class Candidate:
    """One generated question before filtering and letter assignment.

    Attributes:
        question_type: VSI-Bench question type.
        question: Question text (VSI-Bench template).
        answer: Numerical answer text (``"42"``, ``"3.1"``) or the text of the correct option.
        choices: Multiple choice: every option text (correct one included) in canonical order; numerical: ``[]``.
        meta: Provenance (objects, raw values, variant).
    """

    question_type: str
    question: str
    answer: str
    choices: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Candidate:
        return cls(d["question_type"], d["question"], d["answer"], list(d.get("choices", [])), dict(d.get("meta", {})))


# --------------------------------------------------------------------------------------------- scene summaries


def category_counts(scene: Scene) -> dict[str, int]:
    """Instances per non-structural category (VSI-Bench metadata scenes carry their own ``object_counts``).

    Example:
        >>> from spatial_r1_eval.generation.scene import AxisAlignedBox, OrientedBox
        >>> box = AxisAlignedBox(np.zeros(3), np.ones(3)); obb = OrientedBox(np.full(3, .5), np.ones(3), np.eye(3))
        >>> objs = [SceneObject(i, lab, lab, box, obb) for i, lab in enumerate(["chair", "chair", "wall", "bed"])]
        >>> category_counts(Scene("s", objs))
        {'chair': 2, 'bed': 1}
    """
    counts = getattr(scene, "object_counts", None)
    if counts is None:
        counts = Counter(o.label for o in scene.objects)
    return {c: int(n) for c, n in counts.items() if c not in STRUCTURAL_LABELS and n > 0}


def category_objects(scene: Scene) -> dict[str, list[SceneObject]]:
    """Non-structural category -> its instances (first-seen order).

    Example:
        >>> from spatial_r1_eval.generation.scene import AxisAlignedBox, OrientedBox
        >>> box = AxisAlignedBox(np.zeros(3), np.ones(3)); obb = OrientedBox(np.full(3, .5), np.ones(3), np.eye(3))
        >>> objs = [SceneObject(i, lab, lab, box, obb) for i, lab in enumerate(["sofa", "wall", "bed", "bed"])]
        >>> {c: [o.object_id for o in objs] for c, objs in category_objects(Scene("s", objs)).items()}
        {'sofa': [0], 'bed': [2, 3]}
        >>> unique_categories(Scene("s", objs))
        ['sofa']
    """
    return {c: objs for c, objs in scene.objects_by_label().items() if c not in STRUCTURAL_LABELS}


def unique_categories(scene: Scene) -> list[str]:
    """Categories with exactly one instance (sorted), the targets of size, distance and direction questions."""
    objs = category_objects(scene)
    return sorted(c for c, n in category_counts(scene).items() if n == 1 and c in objs)


# --------------------------------------------------------------------------------------------- answers


def object_size_cm(obj: SceneObject, variant: str = "paper") -> int:
    """Longest side in cm (integer): of the axis-aligned box (paper) or the minimal oriented box (VSI-Bench).

    Example:
        >>> from spatial_r1_eval.generation.scene import AxisAlignedBox, OrientedBox
        >>> o = SceneObject(0, "bed", "bed", AxisAlignedBox(np.zeros(3), np.array([2.0, 1.4, 0.5])),
        ...                 OrientedBox(np.zeros(3), np.array([1.95, 1.5, 0.5]), np.eye(3)))
        >>> object_size_cm(o), object_size_cm(o, "vsibench")
        (200, 195)
    """
    side = np.max(obj.obb.axes_lengths) if variant == "vsibench" else np.max(obj.aabb.size)
    return int(round(float(side) * 100))


def room_size_m2(scene: Scene, config: GeneratorConfig, rng: np.random.Generator | None = None) -> float:
    """Room floor area (m², unrounded): the metadata's value when known, else computed from the scene points."""
    if scene.room_size is not None:
        return float(scene.room_size)
    if scene.points is None or len(scene.points) < 3:
        raise ValueError(f"scene {scene.name}: no points to compute the room size from")
    if config.variant == "vsibench":
        return room_area_vsibench(
            scene.points, rng=rng, n_samples=config.vsibench_room_samples, alpha=config.vsibench_room_alpha
        )
    return room_area_paper(scene.points, floor_height=config.floor_height, alpha=config.room_alpha)


class DistanceCache:
    """Category-to-category distances of a scene (minimum over instances), computed once per pair.

    ``paper``: exact distance between axis-aligned boxes. ``vsibench``: VSI-Bench's 5 cm grid inside the oriented
    boxes (:func:`~spatial_r1_eval.generation.geometry.grid_box_distance`).
    """

    def __init__(self, scene: Scene, variant: str = "paper") -> None:
        self.groups = category_objects(scene)
        self.variant = variant
        self._cache: dict[tuple[str, str], float] = {}

    def __call__(self, a: str, b: str) -> float:
        key = (a, b) if a <= b else (b, a)
        if key not in self._cache:
            ga, gb = self.groups[key[0]], self.groups[key[1]]
            if self.variant == "vsibench":
                d = geometry.category_distance([x.obb for x in ga], [y.obb for y in gb], grid=True)
            else:
                d = geometry.category_distance([x.aabb for x in ga], [y.aabb for y in gb])
            self._cache[key] = d
        return self._cache[key]


def direction_sector(angle: float, question_type: str) -> str:
    """Sector of a CCW angle (degrees, [0, 360)) without any ambiguity rule: hard = quadrants; otherwise left
    [0, 135), back [135, 225), right [225, 360) (VSI-Bench's medium sectors).

    Example:
        >>> [direction_sector(100.0, f"object_rel_direction_{level}") for level in ("hard", "medium")]
        ['back-left', 'left']
    """
    if question_type == "object_rel_direction_hard":
        return ("front-left", "back-left", "back-right", "front-right")[min(int(angle // 90), 3)]
    if angle < 135:
        return "left"
    return "back" if angle < 225 else "right"


def direction_label(
    angle: float, question_type: str, *, variant: str = "paper", margin: float = 10.0, vertex_angles=None
) -> tuple[str | None, str]:
    """Answer of a direction question from the CCW angle P→O to P→Q (degrees), or ``(None, reason)``.

    easy: paper = sign of the cross product (left when 0 < angle < 180), rejected within ``margin`` of 0°/180°;
    VSI-Bench = left [0, 135), right [225, 360), "back" and the ±10° bands around 0/135/225/360 rejected.
    medium: left [0, 135), back [135, 225), right [225, 360). hard: front-left [0, 90), back-left [90, 180),
    back-right [180, 270), front-right [270, 360). VSI-Bench also rejects when more than two of the query box's
    8 corners (``vertex_angles``) fall in another sector than its centre, and for hard only near the upper edge
    of each quadrant (its rule); the paper variant rejects within ``margin`` of every boundary.

    Example:
        >>> direction_label(30.0, "object_rel_direction_easy"), direction_label(200.0, "object_rel_direction_easy")
        (('left', ''), ('right', ''))
        >>> direction_label(150.0, "object_rel_direction_medium"), direction_label(125.0, "object_rel_direction_hard")
        (('back', ''), ('back-left', ''))
        >>> direction_label(178.0, "object_rel_direction_easy")
        (None, 'near_collinear')
    """
    if question_type not in DIRECTION_CHOICES:
        raise ValueError(f"not a direction question type: {question_type!r}")
    if variant == "vsibench":
        if vertex_angles is not None:
            centre = direction_sector(angle, question_type)
            if sum(direction_sector(a, question_type) != centre for a in vertex_angles) > 2:
                return None, "query_box_straddles_sectors"
        if question_type == "object_rel_direction_hard":
            if 90 - (angle % 90) < margin:
                return None, "near_sector_boundary"
        elif np.min(np.abs(angle - np.array([0.0, 135.0, 225.0, 360.0]))) < margin:
            return None, "near_sector_boundary"
        label = direction_sector(angle, question_type)
        if question_type == "object_rel_direction_easy" and label == "back":
            return None, "behind"
        return label, ""
    if question_type == "object_rel_direction_easy":
        if min(angle % 180, 180 - angle % 180) < margin:
            return None, "near_collinear"
        return ("left" if angle < 180 else "right"), ""
    bounds = [0.0, 90.0, 180.0, 270.0, 360.0] if question_type.endswith("hard") else [0.0, 135.0, 225.0, 360.0]
    if np.min(np.abs(angle - np.array(bounds))) < margin:
        return None, "near_sector_boundary"
    return direction_sector(angle, question_type), ""


def first_appearance_times(
    scene: Scene, min_pixels: int = 100, categories: Sequence[str] | None = None, stride: int = 1
) -> dict[str, float]:
    """Category -> time (s) of the first frame whose label image shows at least ``min_pixels`` of it.

    Label ids map to names through ``scene.label_id_to_category``; a category's pixels are summed over all of
    its label ids (several raw labels normalise to one category). Structural labels are ignored; only
    ``categories`` (default: the scene's annotated non-structural categories) are tracked. Frames without
    label images are skipped.

    Stride rule (``stride`` = s > 1): label images are read at every s-th labelled frame (and the last one);
    when a sample shows a category not seen yet, the frames between the previous sample and it are read too, in
    order, and every category takes the time of the first frame read that shows it. A category whose first
    sighting lasts at least s consecutive labelled frames therefore gets its exact first frame (1/30 s for
    ScanNet, finer than the video's 1/24 s grid); only a shorter first glimpse can be missed (the category then
    counts from its next sighting). Each label image is read at most once.

    Args:
        scene: The scene; its ``frames`` carry ``load_labels`` and ``timestamp`` (s).
        min_pixels: Pixels a category needs in one frame to count as seen.
        categories: Category names to track.
        stride: Read every ``stride``-th label image first (the rule above); 1 reads every one.

    Example:
        >>> from spatial_r1_eval.generation.scene import Frame
        >>> seen = np.zeros((4, 4), int); seen[0, :3] = 7; seen[1, :2] = 8  # ids 7 and 8 are both "chair"
        >>> frames = [Frame(i, i / 30, np.eye(4), np.eye(3), lambda: None, lambda img=img: img)
        ...           for i, img in enumerate([np.zeros((4, 4), int), seen])]
        >>> scene = Scene("s", [], frames=frames, label_id_to_category={7: "chair", 8: "chair", 9: "bed"})
        >>> first_appearance_times(scene, min_pixels=5, categories=["chair", "bed"])  # 3 + 2 pixels in frame 1
        {'chair': 0.03333333333333333}
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    wanted = set(categories if categories is not None else category_objects(scene))
    id_to_cat = {int(i): c for i, c in scene.label_id_to_category.items() if c in wanted and int(i) >= 0}
    names = sorted(set(id_to_cat.values()))
    if not names:
        return {}
    lut = np.full(max(id_to_cat) + 1, len(names), dtype=np.int64)  # label id -> position in ``names``
    for label_id, cat in id_to_cat.items():  # (len(names): untracked)
        lut[label_id] = names.index(cat)
    labelled = [f for f in scene.frames if f.load_labels is not None]

    def seen(frame: Frame) -> np.ndarray:
        labels = np.asarray(frame.load_labels()).ravel()
        labels = labels[(labels >= 0) & (labels < len(lut))] if labels.min(initial=0) < 0 else labels
        per_id = np.bincount(labels)[: len(lut)]  # pixels per label id (ids past the table: untracked)
        per_cat = np.bincount(lut[: len(per_id)], weights=per_id, minlength=len(names) + 1)
        return np.flatnonzero(per_cat[: len(names)] >= min_pixels)

    times: dict[str, float] = {}

    def record(frame: Frame, found: np.ndarray) -> None:
        for k in found:
            times.setdefault(names[k], float(frame.timestamp))

    samples = list(range(0, len(labelled), stride))
    if labelled and samples[-1] != len(labelled) - 1:
        samples.append(len(labelled) - 1)
    previous = -1
    for pos in samples:
        found = seen(labelled[pos])
        if any(names[k] not in times for k in found):
            for q in range(previous + 1, pos):  # the frames skipped since the last sample, in order
                record(labelled[q], seen(labelled[q]))
        record(labelled[pos], found)
        previous = pos
        if len(times) == len(names):
            break
    return times


# --------------------------------------------------------------------------------------------- generators

#: Rejected candidates by ``(question_type, reason)``; every ``gen_*`` function below has the signature
#: ``(scene, config, rng, rejections) -> list[Candidate]`` and counts what it rejects into ``rejections``.
Rejections = Counter


def _fmt1(x: float) -> str:
    return f"{round(float(x), 1):.1f}"


def gen_counting(scene: Scene, config: GeneratorConfig, rng: np.random.Generator, rej: Rejections) -> list[Candidate]:
    """``object_counting``: one question per non-structural category with >= 2 instances (answer = count)."""
    out = []
    for cat, n in sorted(category_counts(scene).items()):
        if n < 2:
            rej[("object_counting", "single_instance")] += 1
            continue
        q = TEMPLATES["object_counting"].format(category=cat)
        out.append(Candidate("object_counting", q, str(n), meta={"category": cat, "value": n}))
    return out


def gen_size(scene: Scene, config: GeneratorConfig, rng: np.random.Generator, rej: Rejections) -> list[Candidate]:
    """``object_size_estimation``: one per unique-label object; longest box side in cm (:func:`object_size_cm`)."""
    groups, out = category_objects(scene), []
    for cat in unique_categories(scene):
        obj = groups[cat][0]
        cm = object_size_cm(obj, config.variant)
        if cm <= 0:
            rej[("object_size_estimation", "non_positive_answer")] += 1
            continue
        q = TEMPLATES["object_size_estimation"].format(category=cat)
        meta = {"category": cat, "object_id": obj.object_id, "value": cm}
        out.append(Candidate("object_size_estimation", q, str(cm), meta=meta))
    return out


def gen_room_size(scene: Scene, config: GeneratorConfig, rng: np.random.Generator, rej: Rejections) -> list[Candidate]:
    """``room_size_estimation``: one question, the floor area in m² to 1 decimal (:func:`room_size_m2`)."""
    area = room_size_m2(scene, config, rng)
    if round(area, 1) <= 0:
        rej[("room_size_estimation", "non_positive_answer")] += 1
        return []
    meta = {"value": round(area, 6), "method": config.variant}
    return [Candidate("room_size_estimation", TEMPLATES["room_size_estimation"], _fmt1(area), meta=meta)]


def gen_abs_distance(
    scene: Scene, config: GeneratorConfig, rng: np.random.Generator, rej: Rejections
) -> list[Candidate]:
    """``object_abs_distance``: unique-label pairs (seeded order, at most ``max_candidates``), minimum box distance
    in m to 1 decimal; pairs closer than ``min_abs_distance`` are rejected as ``too_close``."""
    dist, out = DistanceCache(scene, config.variant), []
    pairs = list(itertools.combinations(unique_categories(scene), 2))
    for i in rng.permutation(len(pairs))[: config.max_candidates]:
        a, b = pairs[i] if rng.random() < 0.5 else pairs[i][::-1]
        d = dist(a, b)
        if d < config.min_abs_distance:
            rej[("object_abs_distance", "too_close")] += 1
            continue
        q = TEMPLATES["object_abs_distance"].format(object1=a, object2=b)
        out.append(Candidate("object_abs_distance", q, _fmt1(d), meta={"categories": [a, b], "value": round(d, 6)}))
    return out


def gen_rel_distance(
    scene: Scene, config: GeneratorConfig, rng: np.random.Generator, rej: Rejections
) -> list[Candidate]:
    """``object_rel_distance``: a unique target and four other categories; the answer is the closest category.

    Rejected: ``ambiguous`` (paper: the two closest within ``rel_distance_margin``, the larger margin in rooms over
    ``large_room`` m²; VSI-Bench: any two within the margin), ``closest_too_close`` (VSI-Bench only) and
    ``duplicate`` (the same target and options drawn again).
    """
    qt = "object_rel_distance"
    dist, cats, out = DistanceCache(scene, config.variant), sorted(category_objects(scene)), []
    uniques = unique_categories(scene)
    if not uniques or len(cats) < 5:
        rej[(qt, "too_few_categories")] += 1
        return out
    margin = config.rel_distance_margin
    if config.variant == "paper":  # the paper's larger margin in large rooms (VSI-Bench has one margin)
        known = scene.room_size is not None or (scene.points is not None and len(scene.points) >= 3)
        if known and room_size_m2(scene, config) > config.large_room:
            margin = config.rel_distance_margin_large_room
    drawn: set[tuple[str, ...]] = set()
    for _ in range(config.max_candidates):
        target = uniques[int(rng.integers(len(uniques)))]
        others = [c for c in cats if c != target]
        choice = [others[i] for i in sorted(rng.choice(len(others), size=4, replace=False))]
        if (target, *choice) in drawn:  # same question with its options in another order
            rej[(qt, "duplicate")] += 1
            continue
        drawn.add((target, *choice))
        d = np.array([dist(target, c) for c in choice])
        order = np.argsort(d, kind="stable")
        if config.variant == "vsibench":
            if d.min() < config.rel_distance_min:
                rej[(qt, "closest_too_close")] += 1
                continue
            if np.min(np.abs(d[:, None] - d[None])[np.triu_indices(4, 1)]) <= config.rel_distance_margin:
                rej[(qt, "ambiguous")] += 1
                continue
        elif d[order[1]] - d[order[0]] <= margin:
            rej[(qt, "ambiguous")] += 1
            continue
        shuffled = [choice[i] for i in rng.permutation(4)]
        q = TEMPLATES[qt].format(
            choice_a=shuffled[0], choice_b=shuffled[1], choice_c=shuffled[2], choice_d=shuffled[3], category=target
        )
        meta = {"category": target, "distances": {c: round(float(x), 6) for c, x in zip(choice, d, strict=True)}}
        out.append(Candidate(qt, q, choice[order[0]], choices=shuffled, meta=meta))
    return out


def object_centroid(obj: SceneObject, variant: str = "paper") -> np.ndarray:
    """(3,) centre of an object's box (m): axis-aligned box (paper) or oriented box (``vsibench``).

    Example:
        >>> from spatial_r1_eval.generation.scene import AxisAlignedBox, OrientedBox
        >>> o = SceneObject(0, "bed", "bed", AxisAlignedBox(np.zeros(3), np.array([2.0, 1.0, 0.5])),
        ...                 OrientedBox(np.array([1.0, 0.4, 0.25]), np.ones(3), np.eye(3)))
        >>> object_centroid(o).tolist(), object_centroid(o, "vsibench").tolist()
        ([1.0, 0.5, 0.25], [1.0, 0.4, 0.25])
    """
    return np.asarray(obj.obb.centroid if variant == "vsibench" else obj.aabb.centroid, dtype=float)


def gen_rel_direction(
    scene: Scene, config: GeneratorConfig, rng: np.random.Generator, rej: Rejections
) -> list[Candidate]:
    """``object_rel_direction_{easy,medium,hard}``: unique-label triplets, three (P, O, Q) roles each, answers from
    :func:`direction_label`; triplets with a pairwise distance outside [``direction_min_distance``,
    ``direction_max_distance``] are rejected as ``trivial_distance`` (paper: centroid distances; VSI-Bench: box
    distances)."""
    groups, uniques, out = category_objects(scene), unique_categories(scene), []
    if len(uniques) < 3:
        rej[("object_rel_direction", "too_few_unique_objects")] += 1
        return out
    dist = DistanceCache(scene, config.variant)
    triples = list(itertools.combinations(uniques, 3))
    for i in rng.permutation(len(triples))[: config.max_candidates]:
        a, b, c = triples[i]
        objs = {k: groups[k][0] for k in (a, b, c)}
        if config.variant == "vsibench":
            pair_d = [dist(a, b), dist(a, c), dist(b, c)]
        else:
            cen = {k: object_centroid(o, "paper") for k, o in objs.items()}
            pair_d = [float(np.linalg.norm(cen[x] - cen[y])) for x, y in ((a, b), (a, c), (b, c))]
        if min(pair_d) < config.direction_min_distance or max(pair_d) > config.direction_max_distance:
            rej[("object_rel_direction", "trivial_distance")] += 1
            continue
        for p, o, q in ((a, b, c), (a, c, b), (b, a, c)):
            pc, oc, qc = (object_centroid(objs[k], config.variant) for k in (p, o, q))
            angle = float(geometry.ccw_angle_deg(pc, oc, qc))
            vertex_angles = None
            if config.variant == "vsibench":
                vertex_angles = [float(geometry.ccw_angle_deg(pc, oc, v)) for v in objs[q].obb.corners()]
            for qt in DIRECTION_CHOICES:
                label, reason = direction_label(
                    angle, qt, variant=config.variant, margin=config.direction_margin_deg, vertex_angles=vertex_angles
                )
                if label is None:
                    rej[(qt, reason)] += 1
                    continue
                text = TEMPLATES[qt].format(positioning=p, orienting=o, querying=q)
                meta = {"positioning": p, "orienting": o, "querying": q, "angle_deg": round(angle, 6)}
                out.append(Candidate(qt, text, label, choices=list(DIRECTION_CHOICES[qt]), meta=meta))
    return out


def gen_appearance_order(
    scene: Scene, config: GeneratorConfig, rng: np.random.Generator, rej: Rejections
) -> list[Candidate]:
    """``obj_appearance_order``: four categories seen in the label images (:func:`first_appearance_times`), first
    appearances at least ``appearance_min_gap_s`` apart; the options are the true order and three other orders."""
    qt = "obj_appearance_order"
    if not scene.frames:
        rej[(qt, "no_frames")] += 1
        return []
    times = first_appearance_times(scene, config.appearance_min_pixels, stride=config.appearance_label_stride)
    cats = sorted(times)
    if len(cats) < 4:
        rej[(qt, "fewer_than_4_categories_seen")] += 1
        return []
    combos = list(itertools.combinations(cats, 4))
    out = []
    for i in rng.permutation(len(combos))[: config.max_candidates]:
        combo = list(combos[i])
        t = np.array([times[c] for c in combo])
        if config.variant == "vsibench":
            secs = np.round(t)  # VSI-Bench rounds first-appearance times to whole seconds
            close = np.min(np.abs(secs[:, None] - secs[None])[np.triu_indices(4, 1)]) <= 1
        else:
            close = np.min(np.abs(t[:, None] - t[None])[np.triu_indices(4, 1)]) < config.appearance_min_gap_s
        if close:
            rej[(qt, "appearances_too_close")] += 1
            continue
        ordered = [combo[j] for j in np.argsort(t, kind="stable")]
        correct = ", ".join(ordered)
        distractors: list[str] = []
        while len(distractors) < 3:
            perm = ", ".join(combo[j] for j in rng.permutation(4))
            if perm != correct and perm not in distractors:
                distractors.append(perm)
        mention = [combo[j] for j in rng.permutation(4)]
        q = TEMPLATES[qt].format(choice_a=mention[0], choice_b=mention[1], choice_c=mention[2], choice_d=mention[3])
        meta = {"first_seen_s": {c: round(times[c], 4) for c in combo}}
        out.append(Candidate(qt, q, correct, choices=[correct, *distractors], meta=meta))
    return out


GENERATORS: dict[str, Callable[[Scene, GeneratorConfig, np.random.Generator, Rejections], list[Candidate]]] = {
    "object_counting": gen_counting,
    "object_size_estimation": gen_size,
    "room_size_estimation": gen_room_size,
    "object_abs_distance": gen_abs_distance,
    "object_rel_distance": gen_rel_distance,
    "object_rel_direction": gen_rel_direction,
    "obj_appearance_order": gen_appearance_order,
    "route_planning": routes.gen_route_planning,
}


def resolve_tasks(tasks: Sequence[str] | None) -> list[str]:
    """Validate ``--tasks`` names (tasks or question types) and return task names in canonical order.

    Example:
        >>> resolve_tasks(["object_rel_direction_easy", "object_counting"])
        ['object_counting', 'object_rel_direction']
    """
    if not tasks:
        return list(TASKS)
    wanted = set()
    for t in tasks:
        hits = [name for name, qts in TASKS.items() if t == name or t in qts]
        if not hits:
            raise ValueError(f"unknown task {t!r}; choose from {', '.join(TASKS)}")
        wanted.update(hits)
    return [t for t in TASKS if t in wanted]


def scene_rng(seed: int, scene_name: str, task: str) -> np.random.Generator:
    """The random generator of one (scene, task): independent of scene order, workers and the other tasks.

    Example:
        >>> a, b = scene_rng(0, "scene0000_00", "object_counting"), scene_rng(0, "scene0000_00", "object_counting")
        >>> a.integers(1000, size=3).tolist() == b.integers(1000, size=3).tolist()
        True
    """
    return np.random.default_rng([int(seed), zlib.crc32(scene_name.encode()), zlib.crc32(task.encode())])


def generate_scene(
    scene: Scene, tasks: Sequence[str] | None = None, config: GeneratorConfig | None = None, seed: int = 0
) -> tuple[list[Candidate], Counter]:
    """All candidate questions of one scene for ``tasks`` (default: all eight), and rejections by (type, reason)."""
    config = config or GeneratorConfig()
    rej: Counter = Counter()
    out: list[Candidate] = []
    for task in resolve_tasks(tasks):
        cands = GENERATORS[task](scene, config, scene_rng(seed, scene.name, task), rej)
        for c in cands:
            c.meta.setdefault("variant", config.variant)
        out.extend(cands)
    return out, rej
