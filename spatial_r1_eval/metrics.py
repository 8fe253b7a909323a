"""The three rewards/metrics of Spatial-R1: NAR, MAR and the format reward.

* **NAR** (Numerical Accuracy Reward) is VSI-Bench's Mean Relative Accuracy (MRA): the fraction of the
  confidence thresholds ``c`` in ``THRESHOLDS`` (0.50, 0.55, …, 0.95) for which the relative error
  ``|pred - target| / target <= 1 - c``. It reproduces lmms-eval's
  ``lmms_eval.tasks.vsibench.utils.mean_relative_accuracy(pred, target, .5, .95, .05)`` bit for bit.
* **MAR** (Multi-choice Accuracy Reward): 1.0 when the predicted option letter equals the ground truth
  (case-insensitive, like lmms-eval's ``exact_match``), else 0.0.
* **format reward**: 1.0 iff the whole text is ``<think>…</think>`` then ``<answer>…</answer>``.

``nar`` and ``mar`` take Python scalars (→ ``float``), NumPy arrays or lists (→ ``np.ndarray``) and torch
tensors (→ tensor on the input's device), and broadcast. No per-item Python loop runs over arrays.

Edge behaviour of ``nar`` (documented contract):

* prediction ``None``, NaN or ±inf (unparsable / non-finite) → 0.0;
* negative predictions are ordinary numbers: their relative error is ≥ 1 > 0.5, so they score 0.0;
* huge values never raise: an overflowing error is +inf and scores 0.0; equal huge values score 1.0;
* a target ≤ 0 or non-finite is a data error → ``ValueError`` naming the offending value.

>>> nar(1.2, 1.0)
0.7
>>> mar("b", "B"), format_reward("<think>hmm</think> <answer>B</answer>")
(1.0, 1.0)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

__all__ = ["THRESHOLDS", "thresholds", "nar", "mar", "format_reward"]


def thresholds(start: float = 0.5, end: float = 0.95, interval: float = 0.05) -> np.ndarray:
    """Confidence thresholds, with VSI-Bench's rule ``np.linspace(start, end, int((end - start) / interval + 2))``.

    Note that ``(0.95 - 0.5) / 0.05 + 2 = 10.999…`` so the default gives 10 points (0.50 … 0.95).

    Args:
        start: first threshold.
        end: last threshold.
        interval: nominal step (> 0).

    Returns:
        A float64 array of thresholds.

    Raises:
        ValueError: when ``interval <= 0`` or the rule yields no threshold.

    >>> thresholds().round(2).tolist()
    [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    """
    if not interval > 0:
        raise ValueError(f"interval must be > 0, got {interval!r}")
    num = int((end - start) / interval + 2)
    if num < 1:
        raise ValueError(f"no thresholds between start={start!r} and end={end!r} with interval={interval!r}")
    return np.linspace(start, end, num)


THRESHOLDS: np.ndarray = thresholds()
THRESHOLDS.setflags(write=False)
"""The 10 VSI-Bench thresholds 0.50, 0.55, …, 0.95 (read-only)."""


def _tolerances(start: float, end: float, interval: float) -> np.ndarray:
    # 1 - c, computed exactly as lmms-eval does, sorted ascending for searchsorted.
    return np.sort(1.0 - thresholds(start, end, interval))


def _is_torch(x: Any) -> bool:
    mod = type(x).__module__
    return mod.startswith("torch") and type(x).__name__ in ("Tensor", "Parameter")


def _bad_target_message(value: float) -> str:
    return f"NAR target must be a finite number > 0, got {value!r}"


def _nar_numpy(pred: Any, target: Any, tol: np.ndarray) -> np.ndarray:
    p = np.asarray(pred, dtype=np.float64)  # None in a list/object array becomes NaN
    t = np.asarray(target, dtype=np.float64)
    bad = ~(np.isfinite(t) & (t > 0))
    if bad.any():
        raise ValueError(_bad_target_message(float(t[bad].flat[0])))
    with np.errstate(all="ignore"):
        d = np.abs(p - t) / t
    # number of tolerances >= d  ==  number of thresholds c with d <= 1 - c
    counts = tol.size - np.searchsorted(tol, d, side="left")
    counts = np.where(np.isnan(d), 0, counts)
    return counts / tol.size


def _nar_torch(pred: Any, target: Any, tol_np: np.ndarray) -> Any:
    import torch

    ref = pred if _is_torch(pred) else target
    device = ref.device
    calc = torch.float32 if device.type == "mps" else torch.float64

    def as_calc(x: Any) -> Any:
        if _is_torch(x):
            return x.detach().to(device=device, dtype=calc)
        # numbers/lists go through float64 NumPy first (torch would make a float32 tensor from 1.2)
        arr = np.asarray(np.nan if x is None else x, dtype=np.float64)
        return torch.as_tensor(arr, device=device).to(calc)

    p = as_calc(pred)
    t = as_calc(target)
    floating = [x.dtype for x in (pred, target) if _is_torch(x) and x.dtype.is_floating_point]
    out_dtype = torch.promote_types(*floating) if len(floating) == 2 else (floating or [torch.get_default_dtype()])[0]
    bad = ~(torch.isfinite(t) & (t > 0))
    if bool(bad.any()):
        raise ValueError(_bad_target_message(float(t[bad].flatten()[0].item())))
    d = (p - t).abs() / t
    tol = torch.as_tensor(tol_np, dtype=calc, device=device)
    counts = tol.numel() - torch.searchsorted(tol, d.contiguous(), side="left")
    counts = torch.where(torch.isnan(d), torch.zeros_like(counts), counts)
    return (counts.to(calc) / tol.numel()).to(out_dtype)


def nar(pred: Any, target: Any, *, start: float = 0.5, end: float = 0.95, interval: float = 0.05) -> Any:
    """Numerical Accuracy Reward (VSI-Bench Mean Relative Accuracy).

    ``mean over c in thresholds(start, end, interval) of [|pred - target| / target <= 1 - c]``, computed in
    float64 so that it equals lmms-eval's ``mean_relative_accuracy`` exactly for finite inputs.

    Args:
        pred: predicted number(s): a Python/NumPy scalar, ``None`` (unparsable), a list/array or a torch
            tensor. Non-finite or ``None`` predictions score 0.0. This function does not parse strings:
            use ``answers.parse_number`` or ``scoring.score`` for model output.
        target: ground-truth number(s) (> 0, finite); broadcast against ``pred``.
        start: first threshold.
        end: last threshold.
        interval: threshold step.

    Returns:
        ``float`` for scalar inputs, ``np.ndarray`` of float64 for array-likes, a tensor on the input
        tensor's device when either input is a tensor, in the promoted floating dtype of the tensor inputs
        (the default dtype for integer tensors).

    Raises:
        ValueError: when a target is ≤ 0 or non-finite (the message names the value).
        TypeError: for string inputs.

    >>> nar(1.2, 1.0), nar(10, 10), nar(-3.0, 3.0), nar(None, 2.0), nar(float("inf"), 2.0)
    (0.7, 1.0, 0.0, 0.0, 0.0)
    >>> nar(np.array([1.0, 1.2, 2.0]), 1.0)
    array([1. , 0.7, 0. ])
    >>> nar(1.0, 0.0)
    Traceback (most recent call last):
    ...
    ValueError: NAR target must be a finite number > 0, got 0.0
    """
    if isinstance(pred, (str, bytes)) or isinstance(target, (str, bytes)):
        raise TypeError("nar() takes numbers; parse model output with answers.parse_number or scoring.score")
    tol = _tolerances(start, end, interval)
    if _is_torch(pred) or _is_torch(target):
        return _nar_torch(pred, target, tol)
    if pred is None:
        pred = np.nan
    scalar = np.ndim(pred) == 0 and np.ndim(target) == 0 and not isinstance(pred, np.ndarray)
    out = _nar_numpy(pred, target, tol)
    return float(out) if scalar and not isinstance(target, np.ndarray) else out


def _lower_or_none(x: Any) -> str | None:
    return None if x is None else str(x).lower()


def mar(pred: Any, target: Any) -> Any:
    """Multi-choice Accuracy Reward: 1.0 when ``pred`` equals ``target`` case-insensitively, else 0.0.

    Equals lmms-eval's ``exact_match(pred, target)`` for strings; ``None`` (no parsable choice) scores 0.0.
    Lists/arrays of strings broadcast against each other (→ ``np.ndarray``); torch tensors (e.g. option
    indices) compare elementwise and return a float tensor on their device.

    Args:
        pred: predicted letter(s), e.g. from ``answers.parse_choice``.
        target: ground-truth letter(s).

    Returns:
        ``float`` for scalars, ``np.ndarray`` (float64) for array-likes, a tensor for tensors.

    >>> mar("B", "B"), mar("b", "B"), mar("C", "B"), mar(None, "B")
    (1.0, 1.0, 0.0, 0.0)
    >>> mar(["A", "b", None], "B")
    array([0., 1., 0.])
    """
    if _is_torch(pred) or _is_torch(target):
        import torch

        ref = pred if _is_torch(pred) else target
        p = torch.as_tensor(pred, device=ref.device)
        t = torch.as_tensor(target, device=ref.device)
        return (p == t).to(torch.get_default_dtype())
    if np.ndim(pred) == 0 and np.ndim(target) == 0 and not isinstance(pred, np.ndarray):
        p, t = _lower_or_none(pred), _lower_or_none(target)
        return 1.0 if p is not None and t is not None and p == t else 0.0
    p_arr = np.asarray(pred, dtype=object)
    t_arr = np.asarray(target, dtype=object)
    p_none = np.equal(p_arr, None)
    t_none = np.equal(t_arr, None)
    p_str = np.strings.lower(np.where(p_none, "", p_arr).astype(str))
    t_str = np.strings.lower(np.where(t_none, "", t_arr).astype(str))
    return ((p_str == t_str) & ~p_none & ~t_none).astype(np.float64)


_THINK_OPEN = "<think>"
_ANSWER_CLOSE = "</answer>"
_THINK_ANSWER_JOIN = re.compile(r"</think>\s*<answer>")


def format_reward(text: Any) -> float:
    """Format reward: 1.0 iff the text is ``<think>…</think>`` followed by ``<answer>…</answer>``.

    Same language as Video-R1's ``re.fullmatch(r"<think>.*?</think>\\s*<answer>.*?</answer>", text, re.DOTALL)``
    except that leading/trailing whitespace around the whole text is allowed; implemented with string
    operations and one literal-anchored search, so it is linear-time on any input. Non-strings score 0.0.

    Args:
        text: a model completion.

    Returns:
        1.0 or 0.0.

    >>> format_reward("<think>let me think</think>\\n<answer>3.5</answer>\\n")
    1.0
    >>> format_reward("<answer>3.5</answer>"), format_reward("<think>x</think><answer>3</answer> extra")
    (0.0, 0.0)
    """
    if not isinstance(text, str):
        return 0.0
    s = text.strip()
    if not (s.startswith(_THINK_OPEN) and s.endswith(_ANSWER_CLOSE)):
        return 0.0
    middle = s[len(_THINK_OPEN) : len(s) - len(_ANSWER_CLOSE)]
    return 1.0 if _THINK_ANSWER_JOIN.search(middle) else 0.0
