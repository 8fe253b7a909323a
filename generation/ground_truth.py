"""Ground truth of the SR questions from a scene: categories, sizes, room area, distances, directions, first sightings.

The answer functions shared by the generators (:mod:`~spatial_r1_eval.generation.generators`), ``validate-vsibench``
(:mod:`~spatial_r1_eval.generation.validate_cli`), the routes and the audit. Defaults follow the paper (README
"Generating the SR dataset"): axis-aligned boxes, exact box distances, room area as the sum of the floor alpha shape's
triangles, left/right from the sign of the 2-D cross product; ``variant="vsibench"`` follows VSI-Bench (minimal
oriented boxes, distances on a 5 cm grid inside each box, the ``alphashape`` room area, its direction sectors and
ambiguity rules).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from spatial_r1_eval.generation import geometry
from spatial_r1_eval.generation.alpha_shape import room_area_paper, room_area_vsibench
from spatial_r1_eval.generation.config import GeneratorConfig
from spatial_r1_eval.generation.scene import STRUCTURAL_LABELS, Frame, Scene, SceneObject
from spatial_r1_eval.generation.templates import DIRECTION_CHOICES

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
