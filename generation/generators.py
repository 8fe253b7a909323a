"""The SR question generators: the paper's seven (§2.2) and route planning (:mod:`~spatial_r1_eval.generation.routes`),
with VSI-Bench's procedure as the ``vsibench`` variant.

Every generator takes a :class:`~spatial_r1_eval.generation.scene.Scene` and returns :class:`Candidate` questions
plus a count of rejected candidates by reason. A candidate holds the question, its answer (the number, or the text
of the correct option) and, for multiple choice, the option texts in a canonical order; letters are assigned later,
over the whole dataset, so that answers are balanced over A–D (route planning: per option count;
:mod:`~spatial_r1_eval.generation.filters`).

The answers come from :mod:`~spatial_r1_eval.generation.ground_truth` (shared with ``validate-vsibench``), the
settings from :class:`~spatial_r1_eval.generation.config.GeneratorConfig` (defaults = the paper, ``variant=
"vsibench"`` = VSI-Bench), the question types and tasks from the core's vocabulary (:mod:`spatial_r1_eval.questions`).
Those names stay importable from here.
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
from spatial_r1_eval.generation.config import VARIANTS, GeneratorConfig
from spatial_r1_eval.generation.ground_truth import (
    DistanceCache,
    category_counts,
    category_objects,
    direction_label,
    direction_sector,
    first_appearance_times,
    object_centroid,
    object_size_cm,
    room_size_m2,
    unique_categories,
)
from spatial_r1_eval.generation.scene import STRUCTURAL_LABELS, Scene
from spatial_r1_eval.generation.templates import DIRECTION_CHOICES, TEMPLATES

__all__ = [
    "QUESTION_TYPES",
    "TASKS",
    "STRUCTURAL_LABELS",
    "VARIANTS",
    "GeneratorConfig",
    "Candidate",
    "Rejections",
    "GENERATORS",
    "resolve_tasks",
    "scene_rng",
    "generate_scene",
    "DistanceCache",
    "category_counts",
    "category_objects",
    "direction_label",
    "direction_sector",
    "first_appearance_times",
    "object_centroid",
    "object_size_cm",
    "room_size_m2",
    "unique_categories",
]

logger = logging.getLogger(__name__)

#: Question types we generate, in generation order: the core's :data:`~spatial_r1_eval.questions.QUESTION_TYPE_ORDER`.
QUESTION_TYPES: tuple[str, ...] = questions.QUESTION_TYPE_ORDER
#: Task (the paper's seven and route planning; ``--tasks`` names) -> its question types, in generation order
#: (derived from the core: :func:`~spatial_r1_eval.questions.question_types_of`).
TASKS: dict[str, tuple[str, ...]] = {
    questions.task_of(qt): questions.question_types_of(questions.task_of(qt)) for qt in QUESTION_TYPES
}


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
