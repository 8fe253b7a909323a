"""Bootstrap confidence intervals and the paired bootstrap test, from per-question scores.

Resampling is stratified by question type (questions are resampled with replacement within their own type),
so every replicate keeps the benchmark's structure and its scores follow the project's one definition:
per-task mean, ``object_rel_direction`` = unweighted mean of its subtypes, overall = unweighted mean of the
tasks present. That definition is not re-implemented here: the scores are linear in the per-type means, so
the weights are read off :func:`spatial_r1_eval.aggregation.aggregate` once (one call per type on unit
vectors) and every replicate is one matrix product. Everything is vectorised NumPy and seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spatial_r1_eval.leaderboard.runs import COLUMNS

#: Upper bound on the elements of one resampling index block (keeps memory flat for large benchmarks).
_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap confidence interval (same units as the scores, 0-1)."""

    estimate: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class PairedComparison:
    """Paired bootstrap comparison of run B against run A on the same questions (B - A, 0-1 units).

    Attributes:
        column: Table column (a task or ``overall``).
        delta: Observed B - A.
        low: Lower CI bound of the difference.
        high: Upper CI bound of the difference.
        p_value: Two-sided bootstrap p-value for "no difference" (shift method, ``(k + 1) / (B + 1)``).
        n: Number of paired questions in the column.
    """

    column: str
    delta: float
    low: float
    high: float
    p_value: float
    n: int


def aggregation_weights(type_names: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Columns present and the matrix ``W`` with ``scores = per_type_means @ W`` (from ``aggregate``).

    ``W[i, j]`` is the weight of question type ``type_names[i]`` in column ``j``; it is read from
    :func:`spatial_r1_eval.aggregation.aggregate` on one question per type with unit scores, and checked
    to reproduce ``aggregate`` on a generic vector.

    Example:
        >>> types = ["object_counting", "object_rel_direction_easy", "object_rel_direction_hard"]
        >>> cols, w = aggregation_weights(types)
        >>> cols
        ['object_counting', 'object_rel_direction', 'overall']
        >>> w.round(3).tolist()
        [[1.0, 0.0, 0.5], [0.0, 0.5, 0.25], [0.0, 0.5, 0.25]]
    """
    from spatial_r1_eval.aggregation import aggregate

    types = list(type_names)
    if len(set(types)) != len(types):
        raise ValueError(f"question types must be distinct, got {types}")
    base = aggregate(types, np.zeros(len(types)))
    columns = [c for c in COLUMNS if base.get(c) is not None]
    weights = np.zeros((len(types), len(columns)))
    for i in range(len(types)):
        unit = np.zeros(len(types))
        unit[i] = 1.0
        agg = aggregate(types, unit)
        weights[i] = [float(agg[c]) for c in columns]
    probe = np.linspace(0.1, 0.9, len(types)) if len(types) > 1 else np.array([0.3])
    agg = aggregate(types, probe)
    if not np.allclose(probe @ weights, [float(agg[c]) for c in columns], atol=1e-9):
        raise ValueError("aggregate() is not a weighted mean of per-type means; bootstrap weights do not apply")
    return columns, weights


def _type_index(question_types: Sequence[str]) -> tuple[list[str], np.ndarray]:
    types = sorted(set(question_types))
    lookup = {t: i for i, t in enumerate(types)}
    return types, np.fromiter((lookup[t] for t in question_types), dtype=np.intp, count=len(question_types))


def _bootstrap_type_means(
    values: np.ndarray, codes: np.ndarray, n_types: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n_boot, n_types, k)`` per-type means of resampled ``values`` (``(n, k)``), stratified by type code."""
    out = np.empty((n_boot, n_types, values.shape[1]))
    for t in range(n_types):
        members = values[codes == t]
        n = len(members)
        step = max(1, _BLOCK_ELEMENTS // max(n, 1))
        for start in range(0, n_boot, step):
            stop = min(n_boot, start + step)
            idx = rng.integers(0, n, size=(stop - start, n))
            out[start:stop, t] = members[idx].mean(axis=1)
    return out


def _check_inputs(question_types: Sequence[str], scores: np.ndarray, n_boot: int, level: float) -> None:
    if len(question_types) != len(scores):
        raise ValueError(f"{len(question_types)} question types but {len(scores)} scores")
    if len(scores) == 0:
        raise ValueError("no questions to bootstrap")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite")
    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100, got {n_boot}")
    if not 0.5 < level < 1.0:
        raise ValueError(f"level must be in (0.5, 1), got {level}")


def bootstrap_ci(
    question_types: Sequence[str],
    scores: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Interval]:
    """Percentile bootstrap confidence intervals per table column (tasks present and ``overall``).

    Args:
        question_types: Question type per question.
        scores: Per-question score (0-1).
        n_boot: Bootstrap replicates.
        level: Confidence level.
        seed: Seed of the NumPy generator (same seed, same intervals).

    Returns:
        Column -> :class:`Interval` (estimate = the observed score, identical to ``aggregate``).

    Example:
        >>> qt = ["object_counting"] * 4 + ["route_planning"] * 4
        >>> ci = bootstrap_ci(qt, [1, 1, 0, 0, 1, 1, 1, 0], n_boot=500, seed=0)
        >>> ci["overall"].estimate, ci["overall"].n
        (0.625, 8)
        >>> ci["overall"].low <= 0.625 <= ci["overall"].high
        True
    """
    scores = np.asarray(scores, dtype=np.float64)
    _check_inputs(question_types, scores, n_boot, level)
    types, codes = _type_index(question_types)
    columns, weights = aggregation_weights(types)
    rng = np.random.default_rng(seed)
    observed = np.bincount(codes, weights=scores, minlength=len(types)) / np.bincount(codes, minlength=len(types))
    boot = _bootstrap_type_means(scores[:, None], codes, len(types), n_boot, rng)[:, :, 0] @ weights
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(boot, [alpha, 1.0 - alpha], axis=0)
    estimate = observed @ weights
    counts = np.bincount(codes, minlength=len(types))
    return {
        c: Interval(float(estimate[j]), float(low[j]), float(high[j]), int(counts[weights[:, j] > 0].sum()))
        for j, c in enumerate(columns)
    }


def paired_bootstrap(
    question_types: Sequence[str],
    scores_a: Sequence[float] | np.ndarray,
    scores_b: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, PairedComparison]:
    """Paired bootstrap test of B - A on the same questions, per column and overall.

    Both runs are resampled with the same question indices (within question type). The CI is the percentile
    interval of the replicated difference; the two-sided p-value is the share of replicates whose difference,
    centred on the observed one, is at least as extreme as the observed difference (Efron & Tibshirani's shift
    method), ``(k + 1) / (n_boot + 1)``.

    Example:
        >>> qt = ["object_counting"] * 50
        >>> a = [0.0] * 50
        >>> b = [1.0] * 40 + [0.0] * 10
        >>> r = paired_bootstrap(qt, a, b, n_boot=500, seed=1)["overall"]
        >>> round(r.delta, 2), r.p_value < 0.01, r.low > 0
        (0.8, True, True)
    """
    a = np.asarray(scores_a, dtype=np.float64)
    b = np.asarray(scores_b, dtype=np.float64)
    _check_inputs(question_types, a, n_boot, level)
    if a.shape != b.shape:
        raise ValueError(f"paired runs need the same questions: {a.shape} vs {b.shape} scores")
    if not np.all(np.isfinite(b)):
        raise ValueError("scores must be finite")
    types, codes = _type_index(question_types)
    columns, weights = aggregation_weights(types)
    rng = np.random.default_rng(seed)
    counts = np.bincount(codes, minlength=len(types))
    diff = b - a
    observed = (np.bincount(codes, weights=diff, minlength=len(types)) / counts) @ weights
    boot = _bootstrap_type_means(diff[:, None], codes, len(types), n_boot, rng)[:, :, 0] @ weights
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(boot, [alpha, 1.0 - alpha], axis=0)
    extreme = np.abs(boot - observed) >= np.abs(observed) - 1e-12
    p = (extreme.sum(axis=0) + 1.0) / (n_boot + 1.0)
    return {
        c: PairedComparison(
            c, float(observed[j]), float(low[j]), float(high[j]), float(p[j]), int(counts[weights[:, j] > 0].sum())
        )
        for j, c in enumerate(columns)
    }


def pair_samples(ids_a: Sequence[str], types_a: Sequence[str], ids_b: Sequence[str], types_b: Sequence[str]):
    """Match two runs' questions by id: ``(types, index_a, index_b)`` over the shared ids, in run A's order.

    Raises:
        ValueError: no shared question, or a shared id with different question types.

    Example:
        >>> pair_samples(["q1", "q2", "q3"], ["a", "b", "c"], ["q3", "q1"], ["c", "a"])
        (['a', 'c'], array([0, 2]), array([1, 0]))
    """
    where_b = {q: i for i, q in enumerate(ids_b)}
    ia, ib = [], []
    for i, q in enumerate(ids_a):
        j = where_b.get(q)
        if j is None:
            continue
        if types_a[i] != types_b[j]:
            raise ValueError(f"question {q!r} has type {types_a[i]!r} in run A but {types_b[j]!r} in run B")
        ia.append(i)
        ib.append(j)
    if not ia:
        raise ValueError("the two runs share no question id; a paired test needs the same questions")
    return [types_a[i] for i in ia], np.asarray(ia, dtype=np.intp), np.asarray(ib, dtype=np.intp)
