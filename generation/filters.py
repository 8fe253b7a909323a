"""Filtering and balance of generated questions (paper §2.3), record assembly and the summary report.

Order of the filters (each rejection is counted by question type and reason):

1. ``duplicate`` — the same question text twice in a scene;
2. ``non_positive_answer`` — numerical answers must be > 0;
3. ``per_scene_cap`` — at most ``per_scene_cap`` questions per scene and question type (seeded choice);
4. ``answer_balance`` — for ``route_planning``, the same number of questions for every answer of each
   observable shape's answer space (seeded choice, :func:`~spatial_r1_eval.generation.routes.answer_shape`), so
   the options tell a text-only model nothing (the ``routes`` module docstring);
5. ``max_per_task`` — at most ``max_per_task`` questions per question type over the dataset (seeded choice);
6. letters — the correct option of each multiple-choice question goes to the letter used least so far for
   that question type and number of options (ties broken by a seeded draw), the other options in a seeded order:
   answers are balanced over A–D (A–B for easy direction, A–C for medium; route planning per option count, so
   that the count tells nothing about the letter).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from spatial_r1_eval.generation.config import FilterConfig
from spatial_r1_eval.generation.generators import Candidate
from spatial_r1_eval.questions import NUMERICAL, QUESTION_TYPE_ORDER, type_sort_key
from spatial_r1_eval.records import SRRecord

LETTERS = "ABCDEFGH"


def record_id(scene: str, question_type: str, question: str) -> str:
    """Stable record id from scene, type and question text.

    Example:
        >>> record_id("scene0000_00", "object_counting", "How many chair(s) are in this room?")
        'sr-scene0000_00-object_counting-3e0cb4819d'
    """
    digest = hashlib.sha1(question.encode()).hexdigest()[:10]
    return f"sr-{scene}-{question_type}-{digest}"


def _rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), *(zlib.crc32(k.encode()) for k in keys)])


def _is_positive(c: Candidate) -> bool:
    try:
        return float(c.answer) > 0
    except ValueError:
        return False


def select(
    scene_candidates: Mapping[str, Iterable[Candidate]], config: FilterConfig, dataset: str = "scannet"
) -> tuple[list[SRRecord], Counter]:
    """Filter, cap and letter-balance the candidates of all scenes into SR records (VSI-Bench-compatible;
    :class:`~spatial_r1_eval.records.SRRecord`).

    Args:
        scene_candidates: scene name -> its candidates (any order; scenes are processed sorted by name).
        config: caps and seed.
        dataset: the records' ``dataset`` field and video folder.

    Returns:
        Records (sorted by scene, question type, id) and rejections ``{(question_type, reason): n}``.

    Example:
        >>> cands = {"s1": [Candidate("object_counting", "How many chair(s) are in this room?", "3"),
        ...                 Candidate("object_counting", "How many chair(s) are in this room?", "3")]}
        >>> recs, rej = select(cands, FilterConfig())
        >>> [r["ground_truth"] for r in recs], dict(rej)
        (['3'], {('object_counting', 'duplicate'): 1})
    """
    rej: Counter = Counter()
    kept: dict[str, list[tuple[str, Candidate]]] = defaultdict(list)  # question_type -> (scene, candidate)
    for scene in sorted(scene_candidates):
        seen: set[tuple[str, str]] = set()
        by_type: dict[str, list[Candidate]] = defaultdict(list)
        for c in scene_candidates[scene]:
            key = (c.question_type, c.question)
            if key in seen:
                rej[(c.question_type, "duplicate")] += 1
                continue
            seen.add(key)
            if c.question_type in NUMERICAL and not _is_positive(c):
                rej[(c.question_type, "non_positive_answer")] += 1
                continue
            by_type[c.question_type].append(c)
        for qt in sorted(by_type):
            cands = sorted(by_type[qt], key=lambda c: c.question)
            if len(cands) > config.per_scene_cap:
                pick = sorted(_rng(config.seed, "cap", scene, qt).choice(len(cands), config.per_scene_cap, False))
                rej[(qt, "per_scene_cap")] += len(cands) - config.per_scene_cap
                cands = [cands[i] for i in pick]
            kept[qt].extend((scene, c) for c in cands)
    records: list[SRRecord] = []
    for qt in sorted(kept, key=type_sort_key):
        items = kept[qt]
        if qt in _BALANCED:
            items = _balance_answers(items, qt, _rng(config.seed, "balance", qt), rej)
        if config.max_per_task is not None and len(items) > config.max_per_task:
            pick = sorted(_rng(config.seed, "max", qt).choice(len(items), config.max_per_task, replace=False))
            rej[(qt, "max_per_task")] += len(items) - config.max_per_task
            items = [items[i] for i in pick]
        letter_rng = _rng(config.seed, "letters", qt)
        letter_counts: dict[int, Counter] = defaultdict(Counter)  # per number of options
        for scene, c in items:
            records.append(_record(scene, c, dataset, letter_rng, letter_counts[len(c.choices)]))
    records.sort(key=lambda r: (r["scene_name"], type_sort_key(r["question_type"]), r["id"]))
    return records, rej


def _route_shape(c: Candidate) -> tuple[tuple[str, int], list[str]]:
    from spatial_r1_eval.generation.routes import answer_shape

    return answer_shape(c.meta, c.answer)


#: Question types whose answers are balanced within each observable shape: type -> candidate -> (shape, space).
_BALANCED = {"route_planning": _route_shape}


def _balance_answers(
    items: list[tuple[str, Candidate]], qt: str, rng: np.random.Generator, rej: Counter
) -> list[tuple[str, Candidate]]:
    """Keep, per shape, ``m`` items of every answer of the shape's space (``m`` = the rarest answer's count, 0 when
    one is never drawn; seeded choice, order kept); the rest are counted as ``answer_balance``."""
    groups: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    spaces: dict[tuple, list[str]] = {}
    for i, (_, c) in enumerate(items):
        shape, space = _BALANCED[qt](c)
        spaces[shape] = space
        groups[shape][c.answer].append(i)
    keep: set[int] = set()
    for shape in sorted(groups):
        m = min(len(groups[shape].get(a, ())) for a in spaces[shape])
        for a in spaces[shape]:
            idx = groups[shape].get(a, [])
            keep.update(idx[k] for k in rng.choice(len(idx), m, replace=False).tolist())
    if len(keep) < len(items):
        rej[(qt, "answer_balance")] += len(items) - len(keep)
    return [it for i, it in enumerate(items) if i in keep]


def _record(scene: str, c: Candidate, dataset: str, rng: np.random.Generator, counts: Counter) -> SRRecord:
    options: list[str] = []
    truth = c.answer
    if c.choices:
        n = len(c.choices)
        letters = LETTERS[:n]
        least = min(counts[x] for x in letters)
        target = [x for x in letters if counts[x] == least][
            int(rng.integers(sum(counts[x] == least for x in letters)))
        ]
        others = [x for x in c.choices if x != c.answer]
        others = [others[i] for i in rng.permutation(len(others))]
        pos = letters.index(target)
        ordered = others[:pos] + [c.answer] + others[pos:]
        options = [f"{letters[i]}. {text}" for i, text in enumerate(ordered)]
        counts[target] += 1
        truth = target
    meta = dict(c.meta)
    if c.choices:
        meta["answer_text"] = c.answer
    meta = json.loads(json.dumps(meta, sort_keys=True))  # same bytes whether fresh or read back from the cache
    return SRRecord(
        id=record_id(scene, c.question_type, c.question),
        dataset=dataset,
        scene_name=scene,
        question_type=c.question_type,
        question=c.question,
        options=options,
        ground_truth=truth,
        video=f"{dataset}/{scene}.mp4",
        meta=meta,
    )


def build_report(
    records: list[dict[str, Any]], rejections: Counter, scenes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Summary: counts per question type, answer histograms (letters; numerical: 10 bins), rejections by reason.

    Example:
        >>> rep = build_report([{"question_type": "object_counting", "ground_truth": "3", "options": []}], Counter())
        >>> rep["counts"], rep["total"]
        ({'object_counting': 1}, 1)
    """
    counts = Counter(r["question_type"] for r in records)
    hist: dict[str, Any] = {}
    for qt in sorted(counts):
        answers = [r["ground_truth"] for r in records if r["question_type"] == qt]
        if qt in NUMERICAL:
            values = np.array([float(a) for a in answers])
            n, edges = np.histogram(values, bins=min(10, max(1, len(set(answers)))))
            hist[qt] = [[round(float(edges[i]), 3), round(float(edges[i + 1]), 3), int(n[i])] for i in range(len(n))]
        else:
            hist[qt] = dict(sorted(Counter(answers).items()))
    rejected: dict[str, dict[str, int]] = defaultdict(dict)
    for (qt, reason), n in sorted(rejections.items()):
        rejected[qt][reason] = int(n)
    return {
        "total": len(records),
        "counts": {qt: counts[qt] for qt in QUESTION_TYPE_ORDER if qt in counts},
        "answer_histograms": hist,
        "rejected": dict(rejected),
        "scenes": dict(scenes or {}),
    }


def format_report(report: dict[str, Any]) -> str:
    """Printable table of a report: per question type, questions, answer letters / range, rejections."""
    from tabulate import tabulate

    rows = []
    qts = [qt for qt in QUESTION_TYPE_ORDER if qt in report["counts"] or qt in report["rejected"]]
    for qt in qts:
        h = report["answer_histograms"].get(qt)
        if isinstance(h, dict):
            answers = " ".join(f"{k}:{v}" for k, v in h.items())
        elif h:
            answers = f"{h[0][0]:g}..{h[-1][1]:g}"
        else:
            answers = ""
        rej = ", ".join(f"{k} {v}" for k, v in report["rejected"].get(qt, {}).items())
        rows.append([qt, report["counts"].get(qt, 0), answers, rej])
    table = tabulate(rows, headers=["question_type", "questions", "answers", "rejected"])
    scenes = report.get("scenes", {})
    lines = [table, f"total: {report['total']} questions"]
    if scenes:
        lines.append(
            f"scenes: {scenes.get('ok', 0)} ok, {len(scenes.get('failed', {}))} failed, "
            f"{len(scenes.get('excluded', []))} excluded, {len(scenes.get('without_frames', []))} without frames "
            "(no appearance-order questions, no video)"
        )
        for name, err in sorted(scenes.get("failed", {}).items()):
            lines.append(f"  failed {name}: {err}")
    return "\n".join(lines)
