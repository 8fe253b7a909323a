"""Task and overall scores from per-question scores — the one aggregation used by tasks and leaderboard.

Rules (VSI-Bench's, made to work on any subset):

* per task: the mean score of its questions (``questions.task_of`` maps a question type to its task);
* ``object_rel_direction``: the UNWEIGHTED mean of the means of the ``_easy``/``_medium``/``_hard``
  subtypes that are present (VSI-Bench divides by 3 and needs all three);
* ``overall``: the unweighted mean of the task scores present.

Values are in 0…1 (tables multiply by 100). Keys follow ``questions.TASKS`` order, then ``overall``;
:func:`table_scores` gives every one of those columns (``None`` where a subset has no question), for the lmms-eval
tasks' aggregation and the leaderboard's recomputation from sample logs alike.

>>> aggregate(["object_counting", "object_counting", "route_planning"], [1.0, 0.5, 0.0])
{'object_counting': 0.75, 'route_planning': 0.0, 'overall': 0.375}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from spatial_r1_eval.questions import QUESTION_TYPES, REL_DIRECTION_SUBTYPES, TASKS, task_of

__all__ = ["aggregate", "question_type_means", "table_scores"]


def question_type_means(question_types: Sequence[str], scores: Any) -> dict[str, float]:
    """Mean score per question type present (sorted by name).

    Args:
        question_types: one question type per scored question.
        scores: one score per question (finite numbers, typically 0…1).

    Returns:
        ``{question_type: mean}``.

    Raises:
        ValueError: length mismatch, unknown question type, or non-finite score (naming it).

    >>> question_type_means(["object_rel_direction_easy", "object_rel_direction_easy"], [1, 0])
    {'object_rel_direction_easy': 0.5}
    """
    qts = np.asarray(list(question_types), dtype=object)
    vals = np.asarray(scores, dtype=np.float64).reshape(-1)
    if qts.shape[0] != vals.shape[0]:
        raise ValueError(f"got {qts.shape[0]} question types for {vals.shape[0]} scores")
    if qts.size == 0:
        return {}
    bad = ~np.isfinite(vals)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"score {vals[i]!r} at index {i} is not a finite number")
    names, inverse = np.unique(qts.astype(str), return_inverse=True)
    for name in names:
        if name not in QUESTION_TYPES:
            raise ValueError(f"unknown question_type {name!r}; expected one of {', '.join(sorted(QUESTION_TYPES))}")
    sums = np.bincount(inverse, weights=vals, minlength=names.size)
    counts = np.bincount(inverse, minlength=names.size)
    return {str(name): float(s / c) for name, s, c in zip(names, sums, counts, strict=True)}


def aggregate(question_types: Sequence[str], scores: Any, *, include_subtypes: bool = False) -> dict[str, float]:
    """Per-task scores and ``overall`` from per-question scores, on any subset of tasks.

    Args:
        question_types: one question type per scored question.
        scores: one score per question.
        include_subtypes: also report ``object_rel_direction_easy|medium|hard`` (after the tasks).

    Returns:
        ``{task: score, ..., "overall": score}`` for the tasks present (``{}`` for no questions).

    Raises:
        ValueError: as ``question_type_means``.

    >>> qts = ["object_rel_direction_easy"] * 2 + ["object_rel_direction_hard"]
    >>> aggregate(qts, [1.0, 1.0, 0.0])  # unweighted over subtypes: (1.0 + 0.0) / 2
    {'object_rel_direction': 0.5, 'overall': 0.5}
    """
    per_type = question_type_means(question_types, scores)
    if not per_type:
        return {}
    per_task: dict[str, list[float]] = {}
    for qt, value in per_type.items():
        per_task.setdefault(task_of(qt), []).append(value)
    out = {task: float(np.mean(per_task[task])) for task in TASKS if task in per_task}
    if include_subtypes:
        out.update({qt: per_type[qt] for qt in REL_DIRECTION_SUBTYPES if qt in per_type})
    out["overall"] = float(np.mean([out[task] for task in TASKS if task in out]))
    return out


def table_scores(question_types: Sequence[str], scores: Any, *, digits: int | None = None) -> dict[str, float | None]:
    """Every table column — ``questions.TASKS``, then ``overall`` — and its score over any subset of questions.

    Args:
        question_types: one question type per scored question.
        scores: one score per question.
        digits: round each score to this many decimals (lmms-eval's built-in ``vsibench`` reports 6); ``None``
            keeps full precision.

    Returns:
        ``{column: score}`` for all nine columns, ``None`` for a task without questions (all ``None`` for none).

    Raises:
        ValueError: as ``question_type_means``.

    >>> s = table_scores(["object_counting", "object_counting", "route_planning"], [1.0, 0.5, 0.0])
    >>> s["object_counting"], s["route_planning"], s["object_abs_distance"], s["overall"], len(s)
    (0.75, 0.0, None, 0.375, 9)
    >>> table_scores(["room_size_estimation"], [2 / 3], digits=6)["room_size_estimation"]
    0.666667
    """
    agg = aggregate(question_types, scores)
    out: dict[str, float | None] = {}
    for column in (*TASKS, "overall"):
        value = agg.get(column)
        out[column] = None if value is None else float(value) if digits is None else round(float(value), digits)
    return out
