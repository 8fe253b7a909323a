"""NAR / MAR / format reward against lmms-eval's own VSI-Bench functions and Video-R1's format regex."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_r1_eval import metrics

vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")

N_PAIRS = 100_000


def _random_pairs(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded pairs mixing the value families VSI-Bench sees plus exact threshold boundaries."""
    rng = np.random.default_rng(seed)
    k = n // 5
    # 1. counts (integers), 2. one-decimal metres, 3. log-uniform wide range
    t1 = rng.integers(1, 30, k).astype(float)
    p1 = rng.integers(-5, 60, k).astype(float)
    t2 = np.round(rng.uniform(0.1, 50, k), 1)
    p2 = np.round(t2 * rng.uniform(0, 2.2, k), 1)
    t3 = 10 ** rng.uniform(-3, 6, k)
    p3 = t3 * 10 ** rng.normal(0, 0.3, k)
    # 4. predictions exactly on the thresholds' boundaries: t * (1 ± (1 - c)) for each c
    t4 = np.round(rng.uniform(0.5, 500, k), 1)
    c = metrics.THRESHOLDS[rng.integers(0, 10, k)]
    p4 = t4 * (1 + rng.choice([-1.0, 1.0], k) * (1 - c))
    # 5. near-boundary integers (sizes in cm) with relative errors close to 0.05 steps
    t5 = rng.integers(20, 400, n - 4 * k).astype(float)
    p5 = np.round(t5 * (1 + np.round(rng.uniform(-0.6, 0.6, n - 4 * k), 2)))
    return np.concatenate([p1, p2, p3, p4, p5]), np.concatenate([t1, t2, t3, t4, t5])


@pytest.fixture(scope="module")
def pairs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pred, target = _random_pairs(0, N_PAIRS)
    mra = vsb.mean_relative_accuracy
    reference = np.fromiter(
        (mra(p, t, 0.5, 0.95, 0.05) for p, t in zip(pred.tolist(), target.tolist(), strict=True)),
        dtype=np.float64,
        count=pred.size,
    )
    return pred, target, reference


def test_thresholds_follow_vsibench_rule() -> None:
    expected = np.linspace(0.5, 0.95, int((0.95 - 0.5) / 0.05 + 2))
    assert metrics.THRESHOLDS.shape == (10,)
    np.testing.assert_array_equal(metrics.THRESHOLDS, expected)
    np.testing.assert_array_equal(metrics.thresholds(), expected)
    assert not metrics.THRESHOLDS.flags.writeable
    assert metrics.thresholds(0.5, 0.9, 0.1).size == int((0.9 - 0.5) / 0.1 + 2)
    with pytest.raises(ValueError, match="interval"):
        metrics.thresholds(0.5, 0.95, 0.0)


def test_nar_numpy_equals_lmms_eval_on_100k_pairs(pairs) -> None:
    pred, target, reference = pairs
    ours = metrics.nar(pred, target)
    assert isinstance(ours, np.ndarray) and ours.dtype == np.float64
    np.testing.assert_array_equal(ours, reference)  # bit for bit
    # the data exercises every score level and the boundaries
    assert set(np.round(np.unique(reference), 2)) == {round(0.1 * i, 2) for i in range(11)}


def test_nar_scalar_equals_lmms_eval_on_sample(pairs) -> None:
    pred, target, reference = pairs
    idx = np.random.default_rng(1).choice(pred.size, 2_000, replace=False)
    for i in idx:
        value = metrics.nar(float(pred[i]), float(target[i]))
        assert type(value) is float
        assert value == reference[i], (pred[i], target[i])


@pytest.mark.parametrize(("start", "end", "interval"), [(0.5, 0.95, 0.05), (0.5, 0.9, 0.1), (0.0, 0.9, 0.3)])
def test_nar_other_threshold_grids_equal_lmms_eval(start: float, end: float, interval: float) -> None:
    pred, target = _random_pairs(7, 5_000)
    reference = [vsb.mean_relative_accuracy(p, t, start, end, interval) for p, t in zip(pred, target, strict=True)]
    np.testing.assert_array_equal(metrics.nar(pred, target, start=start, end=end, interval=interval), reference)


def test_nar_torch_cpu_equals_lmms_eval_and_keeps_device_and_dtype(pairs) -> None:
    pred, target, reference = pairs
    out = metrics.nar(torch.from_numpy(pred), torch.from_numpy(target))
    assert isinstance(out, torch.Tensor) and out.device.type == "cpu" and out.dtype == torch.float64
    np.testing.assert_array_equal(out.numpy(), reference)
    # float32 tensors: computed on the float32 values (widened exactly), result in float32
    p32 = torch.from_numpy(pred[:1000]).float()
    out32 = metrics.nar(p32, float(target[0]))
    assert out32.dtype == torch.float32
    ref32 = [vsb.mean_relative_accuracy(float(p), float(target[0]), 0.5, 0.95, 0.05) for p in p32.tolist()]
    np.testing.assert_array_equal(out32.numpy(), np.asarray(ref32, dtype=np.float32))
    # mixed tensor / number / array; requires_grad inputs are fine (scores carry no gradient)
    g = torch.tensor([1.0, 1.2], requires_grad=True)
    assert metrics.nar(g, 1.0).tolist() == pytest.approx([1.0, 0.6])
    assert metrics.nar(1.2, torch.tensor([1.0], dtype=torch.float64)).item() == 0.7


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_nar_torch_cuda_stays_on_device(pairs) -> None:
    pred, target, reference = pairs
    out = metrics.nar(torch.from_numpy(pred).cuda(), torch.from_numpy(target).cuda())
    assert out.device.type == "cuda"
    np.testing.assert_array_equal(out.cpu().numpy(), reference)


def test_nar_broadcasting() -> None:
    pred = np.array([[0.5], [1.0], [1.2], [3.0]])
    target = np.array([1.0, 2.0, 2.5])
    out = metrics.nar(pred, target)
    assert out.shape == (4, 3)
    expected = [[vsb.mean_relative_accuracy(p, t, 0.5, 0.95, 0.05) for t in target] for p in pred[:, 0]]
    np.testing.assert_array_equal(out, expected)
    assert metrics.nar([1.0, 2.0], 2.0).tolist() == [0.1, 1.0]
    t_out = metrics.nar(torch.tensor(pred), torch.tensor(target))
    np.testing.assert_array_equal(t_out.numpy(), expected)


@pytest.mark.parametrize(
    ("pred", "target", "expected"),
    [
        (None, 3.0, 0.0),  # unparsable prediction
        (float("nan"), 3.0, 0.0),
        (float("inf"), 3.0, 0.0),
        (float("-inf"), 3.0, 0.0),
        (-3.0, 3.0, 0.0),  # negative prediction: relative error >= 1
        (-0.0, 3.0, 0.0),
        (0.0, 3.0, 0.0),
        (1e308, 1.0, 0.0),  # huge prediction
        (-1e308, 1e308, 0.0),  # |p - t| overflows to inf
        (1e308, 1e308, 1.0),  # equal huge values
        (1e-300, 1e-300, 1.0),  # tiny target
        (5e-324, 1e-320, 0.0),  # subnormal target: error ~ 1
        (3, 3, 1.0),  # ints
        (np.float32(1.5), np.int64(2), 0.6),  # 1 - 0.75 < 0.25 in floating point
    ],
)
def test_nar_edge_values(pred, target, expected) -> None:
    assert metrics.nar(pred, target) == expected


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), -float("inf")])
def test_nar_bad_target_raises_value_error_naming_it(bad: float) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        metrics.nar(1.0, bad)
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        metrics.nar(np.array([1.0, 2.0]), np.array([1.0, bad]))
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        metrics.nar(torch.tensor([1.0, 2.0]), torch.tensor([1.0, bad]))


def test_nar_nonfinite_predictions_in_arrays_score_zero() -> None:
    out = metrics.nar([np.nan, np.inf, None, 2.0], 2.0)
    assert out.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert metrics.nar(torch.tensor([float("nan"), 2.0]), 2.0).tolist() == [0.0, 1.0]


def test_nar_rejects_strings() -> None:
    with pytest.raises(TypeError, match="parse_number"):
        metrics.nar("3", 3.0)


def test_mar_equals_lmms_exact_match_on_100k_pairs() -> None:
    rng = np.random.default_rng(2)
    letters = np.array(list("ABCDEabcde"))
    pred = letters[rng.integers(0, 10, N_PAIRS)]
    target = letters[rng.integers(0, 5, N_PAIRS)]
    reference = np.fromiter(
        (vsb.exact_match(p, t) for p, t in zip(pred.tolist(), target.tolist(), strict=True)), dtype=np.float64
    )
    np.testing.assert_array_equal(metrics.mar(pred, target), reference)
    np.testing.assert_array_equal(metrics.mar(pred.tolist(), target.tolist()), reference)
    assert 0.15 < reference.mean() < 0.25  # both outcomes well represented


def test_mar_scalars_none_and_tensors() -> None:
    assert metrics.mar("b", "B") == 1.0
    assert metrics.mar("C", "B") == 0.0
    assert metrics.mar(None, "B") == 0.0
    assert metrics.mar(["A", None, "c"], ["A", "A", "C"]).tolist() == [1.0, 0.0, 1.0]
    out = metrics.mar(torch.tensor([0, 1, 2]), torch.tensor([0, 2, 2]))
    assert out.tolist() == [1.0, 0.0, 1.0] and out.device.type == "cpu"


# Video-R1's format reward: re.fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>", text, re.DOTALL)
VIDEO_R1_FORMAT = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.DOTALL)

_TOKENS = st.sampled_from(
    ["<think>", "</think>", "<answer>", "</answer>", " ", "\n", "x", "B", "<", ">", "3.5", "think"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TOKENS, max_size=12).map("".join))
def test_format_reward_equals_video_r1_regex(text: str) -> None:
    expected = 1.0 if VIDEO_R1_FORMAT.fullmatch(text.strip()) else 0.0
    assert metrics.format_reward(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>a</think><answer>B</answer>", 1.0),
        ("  <think>\nlet me think\n</think>\n\n<answer>3.5</answer>\n", 1.0),
        ("<think></think><answer></answer>", 1.0),
        ("<think>a</think> x <answer>B</answer>", 0.0),
        ("<answer>B</answer>", 0.0),
        ("<think>a</think>", 0.0),
        ("prefix <think>a</think><answer>B</answer>", 0.0),
        ("<think>a</think><answer>B</answer> suffix", 0.0),
        ("<think>a<answer>B</answer>", 0.0),
        ("<THINK>a</THINK><ANSWER>B</ANSWER>", 0.0),
        ("", 0.0),
        (None, 0.0),
    ],
)
def test_format_reward_cases(text, expected) -> None:
    assert metrics.format_reward(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_format_reward_never_raises(text: str) -> None:
    assert metrics.format_reward(text) in (0.0, 1.0)


def test_nar_torch_output_dtype_promotes_tensor_inputs() -> None:
    assert metrics.nar(torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64)).dtype == torch.float64
    assert metrics.nar(torch.tensor([1], dtype=torch.int64), 1.0).dtype == torch.get_default_dtype()
    assert metrics.nar(torch.tensor([1.0], dtype=torch.float16), 1.0).dtype == torch.float16
