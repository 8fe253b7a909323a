"""Per-record scoring against lmms-eval's own VSI-Bench process_results, plus errors and batch scoring."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_r1_eval import questions
from spatial_r1_eval.scoring import numeric_ground_truth, score, score_batch

vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")

MRA_KEY = "MRA:.5:.95:.05"


def synthetic_records(n: int, seed: int) -> list[dict]:
    """VSI-Bench-shaped records of every question type (no real data needed)."""
    rng = np.random.default_rng(seed)
    types = sorted(questions.QUESTION_TYPES)
    out = []
    for i in range(n):
        qt = types[i % len(types)]
        rec = {"id": i, "question_type": qt, "question": f"Q{i}?"}
        if qt in questions.NUMERICAL:
            gt = rng.integers(1, 30) if qt == "object_counting" else round(float(rng.uniform(0.1, 300)), 1)
            rec.update(options=None, ground_truth=str(gt))
        else:
            k = int(rng.integers(2, 5))
            rec.update(
                options=[f"{'ABCD'[j]}. thing{j}" for j in range(k)], ground_truth="ABCD"[int(rng.integers(0, k))]
            )
        out.append(rec)
    return out


def _predictions(records: list[dict], seed: int) -> list[str]:
    """Direct answers in the formats lmms-eval parses correctly (bare numbers, letters, 'B.')."""
    rng = np.random.default_rng(seed)
    preds = []
    for rec in records:
        if rec["question_type"] in questions.NUMERICAL:
            value = float(rec["ground_truth"]) * rng.uniform(0.2, 1.8)
            preds.append(str(round(value, int(rng.integers(0, 3)))))
        else:
            letter = "ABCD"[int(rng.integers(0, len(rec["options"])))]
            formats = [letter, letter + ".", letter.lower(), f"{letter}. {rec['options'][0][3:]}"]
            preds.append(formats[int(rng.integers(0, len(formats)))])
    return preds


def _lmms_score(prediction: str, record: dict) -> float:
    doc = dict(record)
    result = vsb.vsibench_process_results(doc, [prediction])["vsibench_overall"]
    return result[MRA_KEY] if record["question_type"] in questions.NUMERICAL else result["accuracy"]


def _real_records(vsibench_dir: Path) -> list[dict]:
    with open(vsibench_dir / "test.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_score_equals_lmms_process_results_on_synthetic_records() -> None:
    records = synthetic_records(3_000, seed=0)
    preds = _predictions(records, seed=1)
    ours = np.array([score(p, r) for p, r in zip(preds, records, strict=True)])
    ref = np.array([_lmms_score(p, r) for p, r in zip(preds, records, strict=True)])
    np.testing.assert_array_equal(ours, ref)
    assert 0.1 < ours.mean() < 0.9


def test_score_equals_lmms_process_results_on_real_vsibench(vsibench_dir: Path) -> None:
    records = _real_records(vsibench_dir)
    assert len(records) == 5130
    preds = _predictions(records, seed=2)
    ours = score_batch(preds, records)
    ref = np.array([_lmms_score(p, r) for p, r in zip(preds, records, strict=True)])
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize(
    ("prediction", "record", "expected"),
    [
        (
            "<think>I count four</think><answer>4</answer>",
            {"question_type": "object_counting", "ground_truth": "4"},
            1.0,
        ),
        (
            "<think>..</think><answer>twenty-one</answer>",
            {"question_type": "object_counting", "ground_truth": "21"},
            1.0,
        ),
        ("<answer>3,5 m</answer>", {"question_type": "object_abs_distance", "ground_truth": "3.5"}, 1.0),
        ("\\boxed{1,200}", {"question_type": "object_size_estimation", "ground_truth": "1200"}, 1.0),
        ("a chair", {"question_type": "object_counting", "ground_truth": "1"}, 0.0),  # 'a' is not 1
        ("no idea", {"question_type": "room_size_estimation", "ground_truth": "20"}, 0.0),
        ("<answer>1e999</answer>", {"question_type": "room_size_estimation", "ground_truth": "20"}, 0.0),
        ("-20", {"question_type": "room_size_estimation", "ground_truth": "20"}, 0.0),
        ("<think>hmm</think><answer>(B)</answer>", {"question_type": "route_planning", "ground_truth": "B"}, 1.0),
        ("B.", {"question_type": "object_rel_distance", "ground_truth": "B"}, 1.0),
        ("The answer is (C).", {"question_type": "obj_appearance_order", "ground_truth": "C"}, 1.0),
        (
            "<answer>chair</answer>",
            {"question_type": "object_rel_direction_easy", "ground_truth": "B", "options": ["A. sofa", "B. chair"]},
            1.0,
        ),
        (
            "A chair.",
            {"question_type": "object_rel_direction_hard", "ground_truth": "A", "options": ["A. sofa", "B. chair"]},
            0.0,
        ),
        ("", {"question_type": "route_planning", "ground_truth": "B"}, 0.0),
        (None, {"question_type": "route_planning", "ground_truth": "B"}, 0.0),
    ],
)
def test_score_reasoning_and_tricky_outputs(prediction, record, expected) -> None:
    assert score(prediction, record) == expected


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": 9, "question_type": "colour_naming", "ground_truth": "B"}, "colour_naming"),
        ({"id": 9, "ground_truth": "B"}, "question_type"),
        ({"id": 9, "question_type": "object_counting"}, "ground_truth"),
        ({"id": 9, "question_type": "object_counting", "ground_truth": "many"}, "'many'"),
        ({"id": 9, "question_type": "object_counting", "ground_truth": "0"}, "'0'"),
        ({"id": 9, "question_type": "object_counting", "ground_truth": "-2"}, "'-2'"),
        ({"id": 9, "question_type": "object_counting", "ground_truth": "nan"}, "'nan'"),
        ({"id": 9, "question_type": "route_planning", "ground_truth": None}, "None"),
    ],
)
def test_score_bad_records_raise_value_error_naming_field(record, message) -> None:
    with pytest.raises(ValueError, match=message) as info:
        score("3", record)
    assert "9" in str(info.value)
    with pytest.raises(ValueError, match=message):
        score_batch(["3"], [record])


def test_numeric_ground_truth() -> None:
    assert numeric_ground_truth({"ground_truth": "2.5"}) == 2.5
    assert numeric_ground_truth({"ground_truth": 7}) == 7.0


def test_score_batch_equals_score_and_keeps_order() -> None:
    records = synthetic_records(500, seed=3)
    rng = np.random.default_rng(4)
    pool = ["<answer>4</answer>", "B", "three", "(C)", "", "12.5 m", "<think>x</think><answer>A</answer>", "1,200"]
    preds = [pool[int(k)] for k in rng.integers(0, len(pool), len(records))]
    batch = score_batch(preds, records)
    assert batch.dtype == np.float64 and batch.shape == (500,)
    np.testing.assert_array_equal(batch, [score(p, r) for p, r in zip(preds, records, strict=True)])
    assert score_batch([], []).shape == (0,)
    with pytest.raises(ValueError, match="2 predictions for 1 records"):
        score_batch(["a", "b"], records[:1])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from(synthetic_records(10, seed=5)))
def test_score_never_raises_on_any_prediction(prediction: str, record: dict) -> None:
    value = score(prediction, record)
    assert 0.0 <= value <= 1.0


def test_score_nar_threshold_options_reach_nar() -> None:
    rec = {"question_type": "object_abs_distance", "ground_truth": "2.0"}
    ref = vsb.mean_relative_accuracy(2.5, 2.0, 0.5, 0.9, 0.1)
    assert score("2.5", rec, start=0.5, end=0.9, interval=0.1) == ref
    assert score_batch(["2.5", "B"], [rec, {"question_type": "route_planning", "ground_truth": "B"}], start=0.5,
                       end=0.9, interval=0.1).tolist() == [ref, 1.0]  # fmt: skip
