"""Per-record scoring: one function used by the lmms-eval tasks, the GRPO rewards and the leaderboard.

A record is a VSI-Bench / SR question (:class:`spatial_r1_eval.records.SRRecord`, ``docs/records.md``):
``question_type``, ``ground_truth`` and, for multiple choice, ``options``. The prediction is a raw model completion.

* numerical types: ``nar(parse_number(extract_answer(prediction)), float(ground_truth))``; no number → 0.0;
* multiple choice: ``mar(parse_choice(extract_answer(prediction), options), ground_truth)``; no letter → 0.0;
* an unknown ``question_type``, a missing field or an invalid numerical ground truth (not a number,
  ≤ 0, non-finite) → ``ValueError`` naming the record id, field and value.

>>> record = {"id": 7, "question_type": "object_counting", "ground_truth": "4"}
>>> score("<think>I see four</think><answer>4</answer>", record), score("3 chairs", record)
(1.0, 0.6)
>>> score("B. chair", {"question_type": "route_planning", "ground_truth": "B", "options": ["A. sofa", "B. chair"]})
1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from spatial_r1_eval.answers import extract_answer, parse_choice, parse_number
from spatial_r1_eval.metrics import mar, nar
from spatial_r1_eval.questions import NUMERICAL, QUESTION_TYPES

__all__ = ["score", "score_batch", "numeric_ground_truth"]


def _where(record: Mapping[str, Any]) -> str:
    rid = record.get("id") if isinstance(record, Mapping) else None
    return f"record {rid!r}" if rid is not None else "record"


def _field(record: Mapping[str, Any], name: str) -> Any:
    if not isinstance(record, Mapping):
        raise ValueError(f"a record must be a mapping, got {type(record).__name__}")
    if name not in record:
        raise ValueError(f"{_where(record)} has no field {name!r}")
    return record[name]


def _question_type(record: Mapping[str, Any]) -> str:
    qt = _field(record, "question_type")
    if qt not in QUESTION_TYPES:
        raise ValueError(
            f"{_where(record)}: unknown question_type {qt!r}; expected one of {', '.join(sorted(QUESTION_TYPES))}"
        )
    return qt


def numeric_ground_truth(record: Mapping[str, Any]) -> float:
    """The ground truth of a numerical record as a float, validated (> 0, finite).

    Raises:
        ValueError: naming the record id and the value when it is not a positive finite number.

    >>> numeric_ground_truth({"question_type": "room_size_estimation", "ground_truth": "22.5"})
    22.5
    """
    raw = _field(record, "ground_truth")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{_where(record)}: ground_truth {raw!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{_where(record)}: ground_truth {raw!r} must be a finite number > 0")
    return value


def _choice_ground_truth(record: Mapping[str, Any]) -> str:
    raw = _field(record, "ground_truth")
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{_where(record)}: ground_truth {raw!r} is not an option letter")
    return raw.strip()


def score(
    prediction: Any, record: Mapping[str, Any], *, start: float = 0.5, end: float = 0.95, interval: float = 0.05
) -> float:
    """Score one model completion against one record (0.0 … 1.0).

    Args:
        prediction: the raw completion (``None`` or non-strings are accepted; they score 0.0 unless
            their text parses).
        record: a question record with ``question_type``, ``ground_truth`` and optional ``options``.
        start: first NAR threshold.
        end: last NAR threshold.
        interval: NAR threshold step.

    Returns:
        NAR for numerical types, MAR for multiple-choice types.

    Raises:
        ValueError: unknown ``question_type``, missing field, or invalid numerical ground truth.

    >>> score("about 2 meters", {"question_type": "object_abs_distance", "ground_truth": "2.5"})
    0.6
    >>> score("x", {"id": 3, "question_type": "colour"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: record 3: unknown question_type 'colour'; expected one of ...
    """
    return float(score_batch([prediction], [record], start=start, end=end, interval=interval)[0])


def score_batch(
    predictions: Sequence[Any],
    records: Sequence[Mapping[str, Any]],
    *,
    start: float = 0.5,
    end: float = 0.95,
    interval: float = 0.05,
    device: Any = None,
) -> Any:
    """Score many completions; NAR runs vectorised over all numerical rows at once.

    Args:
        predictions: completions, one per record.
        records: question records.
        start: first NAR threshold.
        end: last NAR threshold.
        interval: NAR threshold step.
        device: ``None`` (NumPy), or a torch device: the scores come back as a float32 tensor there and the NAR of
            the numerical rows is computed on it (the GRPO rewards' training-device path).

    Returns:
        float64 array of scores in input order (a float32 tensor on ``device`` when one is given).

    Raises:
        ValueError: length mismatch, or any error ``score`` raises (naming the record).

    >>> recs = [{"question_type": "object_counting", "ground_truth": "4"},
    ...         {"question_type": "object_rel_distance", "ground_truth": "C", "options": ["A. x", "B. y", "C. z"]}]
    >>> score_batch(["<answer>4</answer>", "<answer>C</answer>"], recs)
    array([1., 1.])
    >>> score_batch(["<answer>3</answer>", "<answer>B</answer>"], recs, device="cpu")
    tensor([0.6000, 0.0000])
    """
    predictions = list(predictions)
    records = list(records)
    if len(predictions) != len(records):
        raise ValueError(f"got {len(predictions)} predictions for {len(records)} records")
    out = np.zeros(len(records), dtype=np.float64)
    num_idx: list[int] = []
    num_pred: list[float] = []
    num_gt: list[float] = []
    for i, (pred, rec) in enumerate(zip(predictions, records, strict=True)):
        qt = _question_type(rec)
        answer = extract_answer(pred)
        if qt in NUMERICAL:
            gt = numeric_ground_truth(rec)
            value = parse_number(answer)
            if value is not None:
                num_idx.append(i)
                num_pred.append(value)
                num_gt.append(gt)
        else:
            out[i] = mar(parse_choice(answer, rec.get("options")), _choice_ground_truth(rec))
    options = {"start": start, "end": end, "interval": interval}
    if device is not None:
        import torch

        scores = torch.as_tensor(out, device=device)
        if num_idx:
            pred_t = torch.tensor(num_pred, dtype=torch.float64, device=device)
            gt_t = torch.tensor(num_gt, dtype=torch.float64, device=device)
            scores[torch.as_tensor(num_idx, device=device)] = nar(pred_t, gt_t, **options)
        return scores.to(torch.float32)
    if num_idx:
        out[np.asarray(num_idx)] = nar(np.asarray(num_pred), np.asarray(num_gt), **options)
    return out
