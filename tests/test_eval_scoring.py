"""Task scoring and aggregation of our lmms-eval tasks, against lmms-eval's built-in ``vsibench`` functions.

The built-in task (``lmms_eval.tasks.vsibench.utils``) is the independent reference: on plain answers
``vsibench_direct`` must give exactly its numbers, and on subsets where it crashes ours must give the
plain per-type means of its per-question scores.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.leaderboard.reference import load_reference
from spatial_r1_eval.questions import MULTIPLE_CHOICE, NUMERICAL
from spatial_r1_eval.tasks import hooks
from spatial_r1_eval.tasks.baselines import (
    FREQUENCY_ROW_TOLERANCE,
    fit_frequency,
    frequency_prediction,
    random_prediction,
)

builtin = pytest.importorskip("lmms_eval.tasks.vsibench.utils")

#: our metric name -> the built-in aggregation function of the same metric
BUILTIN_AGG = {
    "vsibench_overall": builtin.vsibench_aggregate_overall,
    "obj_appearance_order_accuracy": builtin.vsibench_aggregate_obj_appearance_order_accuracy,
    "object_abs_distance_mra": builtin.vsibench_aggregate_object_abs_distance_mra,
    "object_counting_mra": builtin.vsibench_aggregate_object_counting_mra,
    "object_rel_distance_accuracy": builtin.vsibench_aggregate_object_rel_distance_accuracy,
    "object_size_estimation_mra": builtin.vsibench_aggregate_object_size_estimation_mra,
    "room_size_estimation_mra": builtin.vsibench_aggregate_room_size_estimation_mra,
    "route_planning_accuracy": builtin.vsibench_aggregate_route_planning_accuracy,
    "object_rel_direction_accuracy": builtin.vsibench_aggregate_object_rel_direction_accuracy,
}
OUR_AGG = {
    "vsibench_overall": hooks.aggregate_overall,
    "obj_appearance_order_accuracy": hooks.aggregate_obj_appearance_order,
    "object_abs_distance_mra": hooks.aggregate_object_abs_distance,
    "object_counting_mra": hooks.aggregate_object_counting,
    "object_rel_distance_accuracy": hooks.aggregate_object_rel_distance,
    "object_size_estimation_mra": hooks.aggregate_object_size_estimation,
    "room_size_estimation_mra": hooks.aggregate_room_size_estimation,
    "route_planning_accuracy": hooks.aggregate_route_planning,
    "object_rel_direction_accuracy": hooks.aggregate_object_rel_direction,
}


def _plain_prediction(doc: dict, rng: np.random.Generator) -> str:
    """A plain answer a direct-prompted model prints: a letter ("B", "b", "B.") or a number ("3", "2.4")."""
    if doc["question_type"] in MULTIPLE_CHOICE:
        letter = "ABCD"[int(rng.integers(len(doc["options"])))]
        return [letter, letter.lower(), letter + "."][int(rng.integers(3))]
    gt = float(doc["ground_truth"])
    value = gt * rng.uniform(0.3, 1.8)
    return str(int(round(value))) if rng.random() < 0.5 else f"{value:.1f}"


def _builtin_scores(raw_docs: list[dict], predictions: list[str]) -> dict[str, float]:
    per_doc = [
        builtin.vsibench_process_results(copy.deepcopy(d), [p])["vsibench_overall"]
        for d, p in zip(raw_docs, predictions, strict=True)
    ]
    return {metric: fn(per_doc) for metric, fn in BUILTIN_AGG.items()}


def _our_scores(docs: list[dict], predictions: list[str]) -> dict[str, float | None]:
    per_doc = [hooks.process_results(d, [p])["vsibench_overall"] for d, p in zip(docs, predictions, strict=True)]
    return {metric: fn(per_doc) for metric, fn in OUR_AGG.items()}


def _synthetic_raw_docs(n: int, seed: int) -> list[dict]:
    """Questions of every type with random ground truths (VSI-Bench raw row format)."""
    rng = np.random.default_rng(seed)
    types = sorted(MULTIPLE_CHOICE | NUMERICAL)
    rows = []
    for i in range(n):
        qt = types[i % len(types)]
        if qt in NUMERICAL:
            options = None
            gt = str(int(rng.integers(1, 30))) if qt == "object_counting" else f"{rng.uniform(0.2, 80):.1f}"
        else:
            k = int(rng.integers(2, 5))
            options = [f"{'ABCD'[j]}. opt{j}" for j in range(k)]
            gt = "ABCD"[int(rng.integers(k))]
        rows.append(
            {
                "id": i,
                "dataset": "scannet",
                "scene_name": f"scene{i:04d}_00",
                "question_type": qt,
                "question": f"q{i}",
                "options": options,
                "ground_truth": gt,
            }
        )
    return rows


def _ours(raw: list[dict]) -> list[dict]:
    return [hooks.normalise_record(r, f"/videos/{r['dataset']}/{r['scene_name']}.mp4", "test") for r in raw]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parity_with_builtin_on_synthetic_questions(seed: int) -> None:
    raw = _synthetic_raw_docs(400, seed)
    rng = np.random.default_rng(100 + seed)
    preds = [_plain_prediction(d, rng) for d in raw]
    assert _our_scores(_ours(raw), preds) == _builtin_scores(raw, preds)


@pytest.mark.parametrize("seed", [0, 1])
def test_vsibench_direct_equals_builtin_on_real_questions(
    vsibench_rows: list[dict], vsibench_docs: list[dict], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    preds = [_plain_prediction(d, rng) for d in vsibench_rows]
    ours, theirs = _our_scores(vsibench_docs, preds), _builtin_scores(vsibench_rows, preds)
    assert ours == theirs
    assert 0.0 < ours["vsibench_overall"] < 1.0


def test_direct_prompt_equals_builtin_prompt(vsibench_rows: list[dict], vsibench_docs: list[dict]) -> None:
    kwargs = {
        "pre_prompt": "",
        "mca_post_prompt": "Answer with the option's letter from the given choices directly.",
        "na_post_prompt": "Please answer the question using a single word or phrase.",
    }
    for raw, doc in zip(vsibench_rows, vsibench_docs, strict=True):
        assert hooks.direct_doc_to_text(doc, kwargs) == builtin.vsibench_doc_to_text(raw, kwargs)


@pytest.mark.parametrize("question_type", ["object_counting", "object_rel_direction_hard", "route_planning"])
def test_single_question_type_subset_aggregates_where_builtin_crashes(question_type: str) -> None:
    raw = [r for r in _synthetic_raw_docs(440, 7) if r["question_type"] == question_type]
    rng = np.random.default_rng(3)
    preds = [_plain_prediction(d, rng) for d in raw]
    per_doc = [builtin.vsibench_process_results(copy.deepcopy(d), [p]) for d, p in zip(raw, preds, strict=True)]
    with pytest.raises(KeyError):  # the built-in needs all three direction levels
        builtin.vsibench_aggregate_overall([d["vsibench_overall"] for d in per_doc])
    field = "accuracy" if question_type in MULTIPLE_CHOICE else "MRA:.5:.95:.05"
    reference = round(float(np.mean([d["vsibench_overall"][field] for d in per_doc])), 6)
    ours = _our_scores(_ours(raw), preds)
    task = "object_rel_direction" if question_type.startswith("object_rel_direction") else question_type
    assert ours[hooks.METRIC_NAMES[task]] == reference
    assert ours["vsibench_overall"] == reference
    assert all(v is None for m, v in ours.items() if m not in (hooks.METRIC_NAMES[task], "vsibench_overall"))


def test_limit_prefix_and_empty_subset() -> None:
    raw = _synthetic_raw_docs(40, 11)[:7]  # like --limit 7: some types absent, direction levels partial
    rng = np.random.default_rng(5)
    preds = [_plain_prediction(d, rng) for d in raw]
    ours = _our_scores(_ours(raw), preds)
    per_type: dict[str, list[float]] = {}
    for d, p in zip(_ours(raw), preds, strict=True):
        per_type.setdefault(d["question_type"], []).append(hooks.process_results(d, [p])["vsibench_overall"]["score"])
    tasks: dict[str, list[float]] = {}
    for qt, scores in per_type.items():
        tasks.setdefault("object_rel_direction" if qt.startswith("object_rel_direction") else qt, []).append(
            np.mean(scores)
        )
    expected_overall = round(float(np.mean([np.mean(v) for v in tasks.values()])), 6)
    assert ours["vsibench_overall"] == expected_overall
    assert hooks.aggregate_overall([]) is None
    assert hooks.aggregate_format([]) is None


RECORDED_REASONING = [
    # (completion, question_type, options, ground truth, expected score)
    (
        "<think>Let me think. The sofa is left of the TV.</think>\n<answer>B</answer>",
        "object_rel_direction_easy",
        ["A. right", "B. left"],
        "B",
        1.0,
    ),
    (
        "<think>Hmm, wait. It could be A... no.</think><answer>(C)</answer>",
        "object_rel_distance",
        ["A. chair", "B. lamp", "C. door", "D. sink"],
        "C",
        1.0,
    ),
    (
        "<think>oh, I see</think><answer>A</answer> <answer>D</answer>",
        "route_planning",
        ["A. Turn Left", "B. Turn Right", "C. Turn Back", "D. Go"],
        "D",
        1.0,
    ),  # the last answer tag counts
    ("<think>I count the chairs: one, two, three.</think><answer>3</answer>", "object_counting", [], "4", None),
    ("<think>about two metres</think><answer>2.0 meters</answer>", "object_abs_distance", [], "2.3", None),
    ("<think>The room is large</think>", "room_size_estimation", [], "30.5", 0.0),  # no answer, no number
    ("<think>The table is 120 cm long.</think><answer>1,200</answer>", "object_size_estimation", [], "120", 0.0),
]


@pytest.mark.parametrize(("completion", "qt", "options", "gt", "expected"), RECORDED_REASONING)
def test_recorded_reasoning_outputs(completion: str, qt: str, options: list[str], gt: str, expected) -> None:
    doc = {"id": "r", "question_type": qt, "options": options, "ground_truth": gt}
    result = hooks.r1_process_results(doc, [completion])
    sample = result["vsibench_overall"]
    if expected is None:  # numerical: the built-in MRA of the number inside <answer>
        number = builtin.extract_number(completion.split("<answer>")[-1])
        expected = builtin.mean_relative_accuracy(number, float(gt), 0.5, 0.95, 0.05)
    assert sample["score"] == pytest.approx(expected, abs=1e-12)
    video_r1_format = re.fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>", completion.strip(), re.DOTALL)
    assert sample["format"] == (1.0 if video_r1_format else 0.0)
    assert result["format_reward"] is sample


def test_missing_video_error_names_the_path(tmp_path: Path) -> None:
    doc = hooks.normalise_record(
        {
            "id": "q1",
            "question_type": "object_counting",
            "question": "How many?",
            "ground_truth": "2",
            "dataset": "scannet",
            "scene_name": "s",
        },
        tmp_path / "videos" / "scannet" / "s.mp4",
        "test",
    )
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "videos" / "scannet" / "s.mp4")):
        hooks.doc_to_visual(doc)
    with pytest.raises(FileNotFoundError, match="s.mp4.*question q1"):
        hooks.check_videos([doc])
    assert hooks.doc_to_visual_blind(doc) == []
    assert hooks.direct_doc_to_messages_blind(doc)[0]["content"][0]["type"] == "text"


def test_sr_dir_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(hooks.SR_DIR_ENV, raising=False)
    with pytest.raises(ValueError, match="SPATIAL_R1_SR_DIR is not set"):
        hooks.load_sr_docs()
    monkeypatch.setenv(hooks.SR_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="absent"):
        hooks.load_sr_docs()
    (tmp_path / "sr.jsonl").write_text(
        json.dumps(
            {
                "id": "a",
                "question_type": "object_counting",
                "question": "q",
                "ground_truth": "2",
                "video": "../../etc/x.mp4",
            }
        )
        + "\n"
    )
    with pytest.raises(ValueError, match="escapes"):
        hooks.load_sr_docs(tmp_path)


def test_chance_frequency_reproduces_published_row(vsibench_docs: list[dict]) -> None:
    """The paper's "Chance Level (Frequency)" row (VSI-Bench Table 1), on the real questions."""
    fitted = fit_frequency(vsibench_docs)
    preds = [frequency_prediction(d, fitted) for d in vsibench_docs]
    ours = {k: 100 * v for k, v in _our_scores(vsibench_docs, preds).items()}
    published = dict(load_reference("spatial-r1-table1"))["Chance Level (Frequency)"]
    for task, tolerance in FREQUENCY_ROW_TOLERANCE.items():
        metric = hooks.METRIC_NAMES[task]
        assert abs(ours[metric] - published[task]) <= tolerance, (metric, ours[metric], published[task])


def test_chance_random_matches_expected_rate(vsibench_docs: list[dict]) -> None:
    """Uniform guessing: mean accuracy within 4 standard errors of the expected 1/len(options)."""
    for qt in sorted(MULTIPLE_CHOICE):
        docs = [d for d in vsibench_docs if d["question_type"] == qt]
        hits = [float(random_prediction(d, seed=0) == d["ground_truth"]) for d in docs]
        p = np.array([1 / len(d["options"]) for d in docs])
        assert abs(np.mean(hits) - p.mean()) <= 4 * np.sqrt((p * (1 - p)).sum()) / len(docs), qt
    assert random_prediction(vsibench_docs[0], seed=0) == ""  # numerical questions abstain (first row is counting)


def test_chance_random_bad_seed_is_a_one_line_error_naming_the_argument() -> None:
    from spatial_r1_eval.tasks import models as lmms_models

    with pytest.raises(ValueError, match=r"seed must be an integer, got 'x'"):
        lmms_models.ChanceRandom(seed="x")
    assert lmms_models.ChanceRandom(seed="3").seed == 3
