"""Scale-out adapter: our rewards as a verl / EasyR1 custom reward function (Ray clusters, many nodes).

Both frameworks load a Python function from a file path; these functions score with the same
``spatial_r1_eval.scoring`` as the TRL rewards and the lmms-eval tasks, so a model trained on a Ray cluster is
optimised for exactly the metric it is evaluated on. Neither framework is needed to import this module.

**verl** (``custom_reward_function.path=<this file>``, ``custom_reward_function.name=compute_score``)::

    compute_score(data_source, solution_str, ground_truth, extra_info=None) -> float

verl passes the decoded response as ``solution_str`` and the parquet row's ``reward_model.ground_truth`` and
``extra_info``. The answer, question type and options may come as a mapping in ``ground_truth``
(``{"question_type", "ground_truth", "options"}``), as that mapping JSON-encoded in a string, or as a plain answer
string with ``question_type`` / ``options`` in ``extra_info``. :func:`to_verl_row` writes rows in this form.
The returned score is ``(1 - format_weight) * accuracy + format_weight * format`` with ``format_weight`` from
``extra_info`` (default 0: accuracy only, like the TRL ``accuracy`` reward; the paper adds the format reward as a
separate term, i.e. weight 0.5 of a sum of two).

**EasyR1** (``worker.reward.reward_type=batch``,
``worker.reward.reward_function=<this file>:compute_score_batch``)::

    compute_score_batch(reward_inputs, format_weight=0.1) -> list[{"overall", "accuracy", "format"}]

with ``reward_inputs = [{"response": str, "ground_truth": str, ...}, ...]``; ``ground_truth`` is the JSON mapping
above (EasyR1 carries the answer as one string).

Malformed responses score 0.0 and never raise; a malformed ground truth (no question type, unknown type) is a data
error and raises ``ValueError`` naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from spatial_r1_eval import metrics, scoring

__all__ = ["compute_score", "compute_score_batch", "to_verl_row", "scoring_record"]


def scoring_record(ground_truth: Any, extra_info: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the ``spatial_r1_eval.scoring`` record from verl's ``ground_truth`` and ``extra_info``.

    Example:
        >>> scoring_record({"question_type": "object_counting", "ground_truth": "4"})
        {'question_type': 'object_counting', 'ground_truth': '4', 'options': []}
        >>> scoring_record('{"question_type": "route_planning", "ground_truth": "B", "options": ["A. x", "B. y"]}')
        {'question_type': 'route_planning', 'ground_truth': 'B', 'options': ['A. x', 'B. y']}
        >>> scoring_record("B", {"question_type": "route_planning"})
        {'question_type': 'route_planning', 'ground_truth': 'B', 'options': []}
    """
    extra = dict(extra_info or {})
    truth: Any = ground_truth
    if isinstance(truth, (str, bytes)):
        text = truth.decode() if isinstance(truth, bytes) else truth
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                truth = json.loads(stripped)
            except json.JSONDecodeError as e:
                raise ValueError(f"ground_truth looks like JSON but is malformed: {e.msg}: {text[:80]!r}") from None
        else:
            truth = {"ground_truth": text}
    if not isinstance(truth, Mapping):
        truth = {"ground_truth": truth}
    question_type = truth.get("question_type", extra.get("question_type"))
    answer = truth.get("ground_truth", truth.get("answer", extra.get("ground_truth")))
    options = truth.get("options", extra.get("options")) or []
    if not question_type:
        raise ValueError(f"no question_type in ground_truth {ground_truth!r} or extra_info")
    if answer in (None, ""):
        raise ValueError(f"no answer in ground_truth {ground_truth!r}")
    return {"question_type": str(question_type), "ground_truth": str(answer), "options": [str(o) for o in options]}


def _weighted(accuracy: float, format_score: float, format_weight: float) -> float:
    if not 0.0 <= format_weight <= 1.0:
        raise ValueError(f"format_weight must be in [0, 1], got {format_weight}")
    return (1.0 - format_weight) * accuracy + format_weight * format_score


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None
) -> float:
    """verl custom reward: the SR score of one response (see the module docstring for the inputs).

    Args:
        data_source: The row's data source (e.g. ``"SR"``); any value is accepted.
        solution_str: The decoded model response.
        ground_truth: The answer with its question type and options (mapping, JSON string, or plain answer).
        extra_info: Optional ``question_type``, ``options``, ``format_weight`` (default 0.0).

    Returns:
        The score in [0, 1].

    Example:
        >>> gt = {"question_type": "object_abs_distance", "ground_truth": "2.0"}
        >>> compute_score("SR", "<think>about 2.2 m</think><answer>2.2</answer>", gt)
        0.9
        >>> compute_score("SR", "<answer>2.2</answer>", gt, {"format_weight": 0.5})
        0.45
    """
    record = scoring_record(ground_truth, extra_info)
    text = solution_str if isinstance(solution_str, str) else ("" if solution_str is None else str(solution_str))
    accuracy = float(scoring.score(text, record))
    format_weight = float((extra_info or {}).get("format_weight", 0.0))
    if format_weight == 0.0:
        return accuracy
    return _weighted(accuracy, float(metrics.format_reward(text)), format_weight)


def compute_score_batch(
    reward_inputs: Sequence[Mapping[str, Any]], format_weight: float = 0.1
) -> list[dict[str, float]]:
    """EasyR1 batch reward: ``overall``, ``accuracy`` and ``format`` per response.

    Args:
        reward_inputs: ``[{"response": str, "ground_truth": <JSON mapping string or mapping>}, ...]``.
        format_weight: Weight of the format reward in ``overall``.

    Example:
        >>> gt = json.dumps({"question_type": "object_rel_direction_easy", "ground_truth": "A",
        ...                  "options": ["A. left", "B. right"]})
        >>> compute_score_batch([{"response": "<think>x</think><answer>A</answer>", "ground_truth": gt},
        ...                      {"response": "left?", "ground_truth": gt}])
        [{'overall': 1.0, 'accuracy': 1.0, 'format': 1.0}, {'overall': 0.9, 'accuracy': 1.0, 'format': 0.0}]
    """
    if isinstance(reward_inputs, Mapping) or not isinstance(reward_inputs, Sequence):
        raise ValueError("compute_score_batch takes a list of reward inputs (EasyR1 reward_type=batch)")
    records = [scoring_record(item.get("ground_truth")) for item in reward_inputs]
    texts = [str(item.get("response") or "") for item in reward_inputs]
    accuracy = scoring.score_batch(texts, records) if texts else []
    out = []
    for text, acc in zip(texts, accuracy, strict=True):
        fmt = float(metrics.format_reward(text))
        overall = round(_weighted(float(acc), fmt, format_weight), 12)
        out.append({"overall": overall, "accuracy": float(acc), "format": fmt})
    return out


def to_verl_row(train_row: Mapping[str, Any], prompt: str | None = None) -> dict[str, Any]:
    """One verl parquet row (``data_source``, ``prompt``, ``reward_model``, ``extra_info``) from an SR training row.

    Args:
        train_row: A row of ``sr_train.jsonl`` (or of :func:`spatial_r1_eval.trainer.data.load_sr_train`).
        prompt: The user prompt text (default: the row's ``problem``).

    Example:
        >>> row = {"problem_id": "sr-1", "problem": "How many chairs?", "question_type": "object_counting",
        ...        "solution": "<answer>4</answer>", "options": [], "path": "videos/scannet/s.mp4"}
        >>> r = to_verl_row(row)
        >>> r["reward_model"]["ground_truth"]
        '{"question_type": "object_counting", "ground_truth": "4", "options": []}'
        >>> compute_score(r["data_source"], "<answer>4</answer>", r["reward_model"]["ground_truth"], r["extra_info"])
        1.0
    """
    from spatial_r1_eval.answers import extract_answer

    answer = train_row.get("ground_truth") or extract_answer(str(train_row.get("solution", ""))).strip()
    truth = {
        "question_type": train_row["question_type"],
        "ground_truth": str(answer),
        "options": list(train_row.get("options") or []),
    }
    return {
        "data_source": train_row.get("data_source", "SR"),
        "prompt": [{"role": "user", "content": prompt if prompt is not None else train_row["problem"]}],
        "videos": [train_row["video"] if "video" in train_row else train_row.get("path")],
        "ability": "spatial_reasoning",
        "reward_model": {"style": "rule", "ground_truth": json.dumps(truth, ensure_ascii=False)},
        "extra_info": {"id": str(train_row.get("problem_id", "")), "question_type": train_row["question_type"]},
    }
