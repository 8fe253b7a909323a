"""GRPO rewards: reward == evaluation score for the same completion and record; malformed completions score 0."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spatial_r1_eval import metrics, scoring
from spatial_r1_eval.answers import extract_answer, parse_number
from spatial_r1_eval.questions import MULTIPLE_CHOICE, NUMERICAL
from spatial_r1_eval.trainer import rewards
from spatial_r1_eval.trainer.rewards import (
    REWARD_FUNCS,
    AccuracyReward,
    accuracy_reward,
    accuracy_reward_tensor,
    completion_text,
    format_reward,
    get_accuracy_reward,
    get_reward_funcs,
)

_FILLERS = ["", "Let me think. ", "Hmm, the sofa is near. ", "wait ", "oh, I see. "]


def _random_case(rng: np.random.Generator) -> tuple[str, dict]:
    """A random record (any question type) and a completion in one of many real-looking shapes."""
    qt = rng.choice(sorted(NUMERICAL | MULTIPLE_CHOICE))
    if qt in NUMERICAL:
        truth = max(1.0, float(np.round(rng.uniform(0.1, 400), int(rng.integers(0, 3)))))
        record = {"question_type": qt, "ground_truth": f"{truth:g}", "options": []}
        guess = truth * rng.uniform(0.3, 1.7) if rng.random() < 0.8 else -truth
        answer = rng.choice([f"{guess:.1f}", f"{guess:.0f} m", f"about {guess:.2f} meters", "twenty-one", "none", ""])
    else:
        n = int(rng.integers(2, 5))
        letters = "ABCD"[:n]
        record = {
            "question_type": qt,
            "ground_truth": str(rng.choice(list(letters))),
            "options": [f"{c}. object {c.lower()}{i}" for i, c in enumerate(letters)],
        }
        letter = str(rng.choice(list(letters)))
        answer = rng.choice([letter, f"{letter}.", f"({letter})", f"The answer is {letter}", letter.lower(), "E", ""])
    think = rng.choice(_FILLERS)
    shape = int(rng.integers(0, 5))
    completion = [
        f"<think>{think}</think><answer>{answer}</answer>",
        f"<think>{think}</think>\n<answer>{answer}</answer>",
        f"{think}{answer}",
        f"<answer>{answer}</answer>",
        f"<think>{think}</think> <answer>wrong</answer><answer>{answer}</answer>",
    ][shape]
    return completion, record


def _columns(records: list[dict], use_solution: bool) -> dict:
    cols = {"question_type": [r["question_type"] for r in records], "options": [r["options"] for r in records]}
    if use_solution:
        cols["solution"] = [f"<answer>{r['ground_truth']}</answer>" for r in records]
    else:
        cols["ground_truth"] = [r["ground_truth"] for r in records]
    return cols


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("use_solution", [False, True])
def test_accuracy_reward_equals_eval_score(seed: int, use_solution: bool) -> None:
    rng = np.random.default_rng(seed)
    cases = [_random_case(rng) for _ in range(250)]
    completions = [c for c, _ in cases]
    records = [r for _, r in cases]
    expected = [scoring.score(c, r) for c, r in cases]  # the evaluation's per-record scorer
    cols = _columns(records, use_solution)
    assert accuracy_reward(completions, **cols) == expected
    assert get_accuracy_reward()(completions, **cols) == expected
    conversational = [[{"role": "assistant", "content": c}] for c in completions]
    assert accuracy_reward(conversational, **cols) == expected
    as_tensor = accuracy_reward_tensor(completions, device="cpu", **cols)
    assert as_tensor.dtype == torch.float32 and as_tensor.device.type == "cpu"
    np.testing.assert_allclose(as_tensor.numpy(), np.asarray(expected, dtype=np.float32), rtol=0, atol=1e-7)
    assert 0 < sum(expected) < len(expected)  # the cases exercise both right and wrong answers


def _reference_nar(pred: float | None, target: float, start: float, end: float, interval: float) -> float:
    """Independent NumPy NAR (paper eq. 1-3, VSI-Bench point count)."""
    if pred is None or not math.isfinite(pred):
        return 0.0
    conf = np.linspace(start, end, int((end - start) / interval + 2))
    return float(np.mean(abs(pred - target) / target <= 1 - conf))


@pytest.mark.parametrize("thresholds", [(0.5, 0.95, 0.05), (0.9, 0.95, 0.05), (0.6, 0.9, 0.1)])
def test_accuracy_reward_nar_thresholds_match_a_numpy_reference(thresholds) -> None:
    start, end, interval = thresholds
    rng = np.random.default_rng(42)
    cases = [_random_case(rng) for _ in range(300)]
    cases = [(c, r) for c, r in cases if r["question_type"] in NUMERICAL]
    reward = get_accuracy_reward(nar_start=start, nar_end=end, nar_interval=interval)
    got = reward([c for c, _ in cases], **_columns([r for _, r in cases], False))
    want = [
        _reference_nar(parse_number(extract_answer(c)), float(r["ground_truth"]), start, end, interval)
        for c, r in cases
    ]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    on_device = accuracy_reward_tensor(
        [c for c, _ in cases],
        device="cpu",
        nar_options={"start": start, "end": end, "interval": interval},
        **_columns([r for _, r in cases], False),
    )
    np.testing.assert_allclose(on_device.numpy(), np.asarray(want, dtype=np.float32), atol=1e-7)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_tensor_path_stays_on_the_training_device() -> None:
    out = accuracy_reward_tensor(
        ["<answer>4</answer>"], device="cuda", question_type=["object_counting"], ground_truth=["4"]
    )
    assert out.device.type == "cuda" and out.item() == 1.0


_MALFORMED = [
    "",
    "no tags at all",
    "<answer></answer>",
    "<answer>   </answer>",
    "<think>unfinished thought",
    "<answer>",
    "</answer><answer",
    "\x00\x01\ufffd garbage \U0001f600 <<<>>>",
    "<answer>" + "9" * 400 + "</answer>",
    "<answer>1e999999</answer>",
    "<answer>nan</answer>",
    "<answer>-inf</answer>",
    "x" * 100_000,
    "<think>" + "hmm " * 25_000 + "</think><answer>",
    None,
    [],
    [{"role": "assistant", "content": None}],
    [{"role": "user", "content": "B"}],
    12,
]


@pytest.mark.parametrize("question_type", sorted(NUMERICAL | MULTIPLE_CHOICE))
def test_malformed_completions_score_zero_and_never_raise(question_type: str) -> None:
    truth = "4" if question_type in NUMERICAL else "B"
    options = [] if question_type in NUMERICAL else ["A. sofa", "B. chair", "C. table", "D. bed"]
    n = len(_MALFORMED)
    cols = {"question_type": [question_type] * n, "ground_truth": [truth] * n, "options": [options] * n}
    assert accuracy_reward(_MALFORMED, **cols) == [0.0] * n
    assert format_reward(_MALFORMED, **cols) == [0.0] * n
    assert accuracy_reward_tensor(_MALFORMED, **cols).tolist() == [0.0] * n


def test_format_reward_is_the_core_metric() -> None:
    texts = [
        "<think>a</think><answer>B</answer>",
        "  <think>a</think>\n\n<answer>3</answer>\n",
        "<answer>3</answer>",
        "<think>a</think><answer>3</answer>tail",
        "<think></think><answer></answer>",
    ]
    assert format_reward(texts) == [metrics.format_reward(t) for t in texts]
    assert format_reward([[{"role": "assistant", "content": t}] for t in texts]) == [
        metrics.format_reward(t) for t in texts
    ]


def test_trl_call_convention_and_none_rows() -> None:
    """TRL passes prompts, completion_ids, trainer_state, log hooks and every dataset column as kwargs."""
    out = accuracy_reward(
        prompts=["p1", "p2", "p3"],
        completions=["<answer>4</answer>", "<answer>B</answer>", "<answer>B</answer>"],
        completion_ids=[[1], [2], [3]],
        trainer_state=object(),
        log_extra=lambda *a: None,
        log_metric=lambda *a: None,
        question_type=["object_counting", "route_planning", None],
        solution=["<answer>4</answer>", "<answer>B</answer>", "<answer>B</answer>"],
        options=[[], ["A. x", "B. y"], []],
        video=["a.mp4", "a.mp4", "b.mp4"],
        problem_id=["1", "2", "3"],
    )
    assert out == [1.0, 1.0, None]


def test_missing_columns_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="question_type"):
        accuracy_reward(["<answer>4</answer>"], solution=["<answer>4</answer>"])
    with pytest.raises(ValueError, match="ground_truth' or 'solution"):
        accuracy_reward(["<answer>4</answer>"], question_type=["object_counting"])
    with pytest.raises(ValueError, match="2 values for 1 completions"):
        accuracy_reward(["4"], question_type=["object_counting"] * 2, ground_truth=["4", "4"])


def test_bad_ground_truth_is_a_data_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="ground_truth"):
        accuracy_reward(["<answer>4</answer>"], question_type=["object_counting"], ground_truth=["0"])


def test_registry_and_factories() -> None:
    assert set(REWARD_FUNCS) == {"accuracy", "format"}
    assert [f.__name__ for f in REWARD_FUNCS.values()] == ["accuracy", "format"]
    funcs = get_reward_funcs(["format", "accuracy"], nar_start=0.5, nar_end=0.95, nar_interval=0.05)
    assert [f.__name__ for f in funcs] == ["format", "accuracy"]
    with pytest.raises(ValueError, match="unknown reward 'length'"):
        get_reward_funcs(["length"])
    with pytest.raises(ValueError):
        get_accuracy_reward(nar_start=0.9, nar_end=0.5)


def test_completion_text_shapes() -> None:
    assert completion_text([{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}]) == "ab"
    assert completion_text({"role": "assistant", "content": [{"type": "text", "text": "x"}, {"type": "image"}]}) == "x"
    assert completion_text([{"role": "tool", "content": "ignored"}]) == ""


def test_module_has_no_own_metric_code() -> None:
    """One metric, one implementation: rewards import the core scorer and metrics instead of defining them."""
    assert rewards.scoring is scoring and rewards.metrics is metrics


@pytest.mark.slow
def test_generated_route_rows_are_rewarded_by_mar(synthetic_sr):
    """Route-planning rows of a pipeline-generated ``sr_train.jsonl``: reward = the core's MAR for that record."""
    import json

    rows = [json.loads(line) for line in (synthetic_sr / "sr_train.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["question_type"] == "route_planning"]
    assert len(rows) >= 2  # after the dataset-wide answer balance, the 2 synthetic scenes keep 2 routes
    truth = [extract_answer(r["solution"]) for r in rows]
    wrong = [next(o[0] for o in r["options"] if o[0] != t) for r, t in zip(rows, truth, strict=True)]
    columns = {"question_type": [r["question_type"] for r in rows], "solution": [r["solution"] for r in rows],
               "options": [r["options"] for r in rows]}  # fmt: skip
    right = accuracy_reward([f"<think>turning</think><answer>{t}</answer>" for t in truth], **columns)
    bad = accuracy_reward([f"<answer>{w}</answer>" for w in wrong], **columns)
    assert right == [1.0] * len(rows) and bad == [0.0] * len(rows)
    for r, w, b in zip(rows, wrong, bad, strict=True):
        record = {
            "question_type": "route_planning",
            "ground_truth": extract_answer(r["solution"]),
            "options": r["options"],
        }
        assert b == scoring.score(f"<answer>{w}</answer>", record)


def _reward_batch(seed: int, n: int = 120) -> tuple[list[str], dict]:
    rng = np.random.default_rng(seed)
    cases = [_random_case(rng) for _ in range(n)]
    return [c for c, _ in cases], _columns([r for _, r in cases], use_solution=bool(seed % 2))


def _every_reward() -> list:
    return [
        *REWARD_FUNCS.values(),
        *get_reward_funcs(sorted(REWARD_FUNCS)),
        *get_reward_funcs(sorted(REWARD_FUNCS), nar_start=0.6, nar_end=0.9, nar_interval=0.1),
        AccuracyReward(),
        AccuracyReward(nar_start=0.9, nar_end=0.95, nar_interval=0.05),
    ]


def _score_in_worker(payload: bytes) -> list:
    """Run in a spawned process: unpickle a reward and its batch, return its values."""
    import pickle

    reward, completions, cols = pickle.loads(payload)
    return [reward.__name__, reward(completions, **cols)]


def test_every_reward_pickles_and_scores_the_same_after() -> None:
    import pickle

    completions, cols = _reward_batch(3)
    for reward in _every_reward():
        clone = pickle.loads(pickle.dumps(reward))
        assert clone(completions, **cols) == reward(completions, **cols), reward
        assert clone.__name__ == reward.__name__


def test_rewards_reach_a_spawned_worker_as_trl_names_them() -> None:
    """What TRL's async rollout does: pickle the rewards into a spawned child process and score there."""
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    from trl.trainer.utils import get_callable_name

    completions, cols = _reward_batch(4)
    funcs = get_reward_funcs(["accuracy", "format"], nar_start=0.6, nar_end=0.9, nar_interval=0.1)
    assert [get_callable_name(f) for f in funcs] == ["accuracy", "format"]  # TRL's log names: rewards/<name>/mean
    payloads = [pickle.dumps((f, completions, cols)) for f in funcs]
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        got = list(pool.map(_score_in_worker, payloads))
    want = [
        ["accuracy", [_reference_nar_or_mar(c, cols, i, 0.6, 0.9, 0.1) for i, c in enumerate(completions)]],
        ["format", [metrics.format_reward(c) for c in completions]],
    ]
    assert got[1] == want[1]
    assert got[0][0] == "accuracy"
    np.testing.assert_allclose(got[0][1], want[0][1], rtol=0, atol=1e-12)


def _reference_nar_or_mar(completion: str, cols: dict, i: int, start: float, end: float, interval: float) -> float:
    """Row ``i``'s accuracy by the NumPy NAR reference (numerical) or the core's exact-letter MAR (multiple choice)."""
    truth = cols["ground_truth"][i] if "ground_truth" in cols else extract_answer(cols["solution"][i])
    record = {"question_type": cols["question_type"][i], "ground_truth": truth, "options": cols["options"][i]}
    if record["question_type"] in NUMERICAL:
        return _reference_nar(parse_number(extract_answer(completion)), float(truth), start, end, interval)
    return scoring.score(completion, record)
