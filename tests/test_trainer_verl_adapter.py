"""verl / EasyR1 reward adapter: same scores as the evaluation scorer, on the frameworks' input shapes."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from spatial_r1_eval import metrics, scoring
from spatial_r1_eval.trainer import verl_adapter
from spatial_r1_eval.trainer.verl_adapter import compute_score, compute_score_batch, scoring_record, to_verl_row

RECORDS = [
    {"question_type": "object_counting", "ground_truth": "4", "options": []},
    {"question_type": "object_abs_distance", "ground_truth": "2.5", "options": []},
    {"question_type": "route_planning", "ground_truth": "B", "options": ["A. Turn Left", "B. Turn Right"]},
    {"question_type": "object_rel_direction_hard", "ground_truth": "D", "options": ["A. a", "B. b", "C. c", "D. d"]},
]
RESPONSES = [
    "<think>four chairs</think><answer>4</answer>",
    "<think>about</think> <answer>3 m</answer>",
    "The answer is B",
    "<answer>d</answer>",
    "",
    "garbage " * 5000,
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r["question_type"])
@pytest.mark.parametrize("response", RESPONSES, ids=range(len(RESPONSES)))
def test_compute_score_equals_eval_score_for_every_ground_truth_form(record, response) -> None:
    expected = scoring.score(response, record)
    as_json = json.dumps(record)
    assert compute_score("SR", response, record) == expected
    assert compute_score("SR", response, as_json) == expected
    assert compute_score("SR", response, record["ground_truth"], extra_info=record) == expected
    fmt = metrics.format_reward(response)
    weighted = compute_score("SR", response, as_json, {"format_weight": 0.25})
    assert weighted == pytest.approx(0.75 * expected + 0.25 * fmt)
    assert isinstance(compute_score("vsibench", response, as_json), float)


def test_easyr1_batch_matches_eval_score() -> None:
    rng = np.random.default_rng(0)
    inputs, expected = [], []
    for _ in range(200):
        record = RECORDS[int(rng.integers(len(RECORDS)))]
        response = RESPONSES[int(rng.integers(len(RESPONSES)))]
        inputs.append({"response": response, "response_length": len(response), "ground_truth": json.dumps(record)})
        expected.append((scoring.score(response, record), metrics.format_reward(response)))
    out = compute_score_batch(inputs, format_weight=0.1)
    assert [o["accuracy"] for o in out] == [a for a, _ in expected]
    assert [o["format"] for o in out] == [f for _, f in expected]
    np.testing.assert_allclose([o["overall"] for o in out], [0.9 * a + 0.1 * f for a, f in expected], atol=1e-12)
    assert compute_score_batch([]) == []


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="question_type"):
        compute_score("SR", "<answer>4</answer>", "4")
    with pytest.raises(ValueError, match="malformed"):
        compute_score("SR", "4", '{"question_type": "object_counting", ')
    with pytest.raises(ValueError, match="unknown question_type"):
        compute_score("SR", "4", {"question_type": "colour", "ground_truth": "red"})
    with pytest.raises(ValueError, match="format_weight"):
        compute_score("SR", "4", RECORDS[0], {"format_weight": 2})
    with pytest.raises(ValueError, match="list of reward inputs"):
        compute_score_batch({"response": "4", "ground_truth": json.dumps(RECORDS[0])})
    # a malformed *response* is never an error
    assert compute_score("SR", None, RECORDS[0]) == 0.0


def test_verl_row_round_trip() -> None:
    train_row = {
        "problem_id": "scene9000_00-3", "problem": "Which way?", "question_type": "route_planning",
        "options": ["A. Turn Left", "B. Turn Right"], "solution": "<answer>B</answer>",
        "path": "videos/scannet/scene9000_00.mp4", "data_source": "SR",
    }  # fmt: skip
    row = to_verl_row(train_row)
    assert row["data_source"] == "SR" and row["videos"] == ["videos/scannet/scene9000_00.mp4"]
    assert scoring_record(row["reward_model"]["ground_truth"]) == {
        "question_type": "route_planning", "ground_truth": "B", "options": ["A. Turn Left", "B. Turn Right"],
    }  # fmt: skip
    assert (
        compute_score(row["data_source"], "<answer>B</answer>", row["reward_model"]["ground_truth"], row["extra_info"])
        == 1.0
    )


def test_loadable_from_its_file_path_like_verl_and_easyr1_do() -> None:
    """Both frameworks import the reward file by path (importlib spec_from_file_location) and look up a name."""
    spec = importlib.util.spec_from_file_location("custom_module", verl_adapter.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.compute_score("SR", "<answer>4</answer>", RECORDS[0]) == 1.0
    assert module.compute_score_batch([{"response": "<answer>4</answer>", "ground_truth": json.dumps(RECORDS[0])}])
