"""Aggregation against lmms-eval's _compute_all_subscores (full sets) and a pandas reference (any subset)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spatial_r1_eval import questions
from spatial_r1_eval.aggregation import aggregate, question_type_means, table_scores

vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")

MRA_KEY = "MRA:.5:.95:.05"
ALL_TYPES = sorted(questions.QUESTION_TYPES)


def _lmms_results(types: list[str], scores: np.ndarray) -> list[dict]:
    rows = []
    for qt, s in zip(types, scores.tolist(), strict=True):
        key = MRA_KEY if qt in questions.NUMERICAL else "accuracy"
        rows.append({"question_type": qt, key: s})
    return rows


def _lmms_to_tasks(sub: dict) -> dict:
    out = {}
    for key, value in sub.items():
        task = key.removesuffix("_" + MRA_KEY).removesuffix("_accuracy")
        out[task] = value
    return out


def _random_scores(types: list[str], rng: np.random.Generator) -> np.ndarray:
    mc = np.isin(types, sorted(questions.MULTIPLE_CHOICE))
    return np.where(mc, rng.integers(0, 2, len(types)), rng.integers(0, 11, len(types)) / 10).astype(float)


def _pandas_reference(types: list[str], scores: np.ndarray) -> dict:
    df = pd.DataFrame({"qt": types, "score": scores})
    per_type = df.groupby("qt")["score"].mean()
    tasks = per_type.groupby(lambda qt: questions.task_of(qt)).mean()  # unweighted over subtypes
    out = {task: float(tasks[task]) for task in questions.TASKS if task in tasks.index}
    out["overall"] = float(np.mean(list(out.values())))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aggregate_equals_lmms_compute_all_subscores_on_full_sets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    types = [ALL_TYPES[k] for k in rng.integers(0, len(ALL_TYPES), 4_000)]
    scores = _random_scores(types, rng)
    ours = aggregate(types, scores)
    ref = _lmms_to_tasks(vsb._compute_all_subscores(_lmms_results(types, scores)))
    assert list(ours) == [*questions.TASKS, "overall"]
    assert ours == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_aggregate_equals_lmms_on_real_vsibench_question_mix(vsibench_dir: Path) -> None:
    with open(vsibench_dir / "test.jsonl", encoding="utf-8") as fh:
        types = [json.loads(line)["question_type"] for line in fh]
    scores = _random_scores(types, np.random.default_rng(9))
    ref = _lmms_to_tasks(vsb._compute_all_subscores(_lmms_results(types, scores)))
    assert aggregate(types, scores) == pytest.approx(ref, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_aggregate_equals_pandas_reference_on_random_subsets(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    present = rng.choice(ALL_TYPES, size=int(rng.integers(1, len(ALL_TYPES) + 1)), replace=False).tolist()
    types = [present[k] for k in rng.integers(0, len(present), int(rng.integers(1, 300)))]
    scores = _random_scores(types, rng)
    ours = aggregate(types, scores)
    assert ours == pytest.approx(_pandas_reference(types, scores), rel=1e-12, abs=1e-15)
    assert all(0.0 <= v <= 1.0 for v in ours.values())


@pytest.mark.parametrize("seed", range(4))
def test_table_scores_give_every_column_on_random_subsets(seed: int) -> None:
    """All nine columns, ``None`` for an absent task, as the lmms-eval tasks and the leaderboard report them."""
    from spatial_r1_eval.tasks.hooks import aggregate_samples

    rng = np.random.default_rng(200 + seed)
    present = rng.choice(ALL_TYPES, size=int(rng.integers(1, 5)), replace=False).tolist()
    types = [present[k] for k in rng.integers(0, len(present), int(rng.integers(1, 200)))]
    scores = _random_scores(types, rng) / 3  # not round numbers
    ref = _pandas_reference(types, scores)
    full = table_scores(types, scores)
    assert list(full) == [*questions.TASKS, "overall"]
    assert {k: v for k, v in full.items() if v is not None} == pytest.approx(ref, rel=1e-12, abs=1e-15)
    assert [k for k, v in full.items() if v is None] == [t for t in questions.TASKS if t not in ref]
    rounded = table_scores(types, scores, digits=6)
    assert rounded == {k: (None if v is None else round(v, 6)) for k, v in full.items()}
    samples = [{"question_type": qt, "score": float(x)} for qt, x in zip(types, scores, strict=True)]
    assert aggregate_samples(samples) == rounded  # the lmms-eval tasks' aggregation (6 digits, like the built-in)
    assert table_scores([], []) == dict.fromkeys(full) == aggregate_samples([])


def test_rel_direction_is_unweighted_over_subtypes() -> None:
    types = ["object_rel_direction_easy"] * 9 + ["object_rel_direction_hard"]
    scores = [1.0] * 9 + [0.0]
    out = aggregate(types, scores, include_subtypes=True)
    assert out["object_rel_direction"] == 0.5  # not 0.9 (question-weighted)
    assert out["object_rel_direction_easy"] == 1.0 and out["object_rel_direction_hard"] == 0.0
    assert "object_rel_direction_medium" not in out
    assert out["overall"] == 0.5


def test_aggregate_empty_and_errors() -> None:
    assert aggregate([], []) == {}
    with pytest.raises(ValueError, match="2 question types for 1 scores"):
        aggregate(["object_counting", "object_counting"], [1.0])
    with pytest.raises(ValueError, match="'colour'"):
        aggregate(["colour"], [1.0])
    with pytest.raises(ValueError, match="nan"):
        aggregate(["object_counting"], [float("nan")])
    assert question_type_means(("route_planning",), np.array([1])) == {"route_planning": 1.0}
