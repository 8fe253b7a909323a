"""GRPO rewards in TRL's signature, computed by the evaluation's own scorer (``spatial_r1_eval.scoring``).

The reward that trains a model is exactly the metric that later scores it: :func:`accuracy_reward` routes each
completion by its row's ``question_type`` through ``spatial_r1_eval.scoring`` (numerical types → NAR,
multiple choice → MAR, the answer taken from the last ``<answer>`` tag), and :func:`format_reward` is
``spatial_r1_eval.metrics.format_reward`` (``<think>…</think><answer>…</answer>``).

TRL calls a reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)`` where
``columns`` are the dataset columns of the rows (lists, one value per completion): here ``question_type``, the
answer as ``ground_truth`` or ``solution`` (``"<answer>X</answer>"``), and ``options``. Completions are strings
or conversational message lists (``[{"role": "assistant", "content": "..."}]``). A function returns one
``float`` per completion, or ``None`` for a row it does not apply to (TRL ignores it in the means).

Malformed completions (no tags, empty answer, garbage, very long text, ``None``) score 0.0 and never raise.
Missing dataset columns are a configuration error (``ValueError``).

:data:`REWARD_FUNCS` maps the names used in recipes (``reward_funcs: [accuracy, format]``) to the functions;
:func:`get_reward_funcs` builds them with options (e.g. NAR thresholds). A reward with options is a small class
(:class:`AccuracyReward`), as TRL's own parametrised rewards are: its instances pickle (a closure does not), so they
reach spawned rollout workers, and TRL logs them by their ``__name__`` (``rewards/accuracy/mean``).

>>> accuracy_reward(["<think>hmm</think><answer>B</answer>", "<answer>4.6</answer>"],
...                 question_type=["route_planning", "object_counting"],
...                 solution=["<answer>B</answer>", "<answer>4</answer>"])
[1.0, 0.8]
>>> format_reward([[{"role": "assistant", "content": "<think>a</think> <answer>B</answer>"}], "B"])
[1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from spatial_r1_eval import metrics, scoring

RewardFunc = Callable[..., list[float | None]]

#: Keyword arguments of TRL's reward call that are not dataset columns.
_TRL_KWARGS = frozenset({"prompts", "completion_ids", "trainer_state", "log_extra", "log_metric", "environments"})


def completion_text(completion: Any) -> str:
    """The text of one completion: a string, or the assistant content of a conversational completion.

    Conversational completions are lists of messages; the text is the concatenated text of the assistant
    messages (content may be a string or a list of ``{"type": "text", "text": ...}`` blocks). Anything else
    (``None``, numbers) becomes ``""`` or its ``str``.

    Example:
        >>> completion_text("<answer>3</answer>")
        '<answer>3</answer>'
        >>> completion_text([{"role": "assistant", "content": [{"type": "text", "text": "<answer>B</answer>"}]}])
        '<answer>B</answer>'
        >>> completion_text(None)
        ''
    """
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        parts: list[str] = []
        for message in completion:
            if not isinstance(message, dict) or message.get("role", "assistant") != "assistant":
                continue
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, (list, tuple)):
                parts.extend(
                    str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type", "text") == "text"
                )
        return "".join(parts)
    return str(completion)


def _column(columns: dict[str, Any], name: str, n: int) -> list[Any] | None:
    values = columns.get(name)
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"reward column {name!r} must be a list with one value per completion, got {values!r}")
    if len(values) != n:
        raise ValueError(f"reward column {name!r} has {len(values)} values for {n} completions")
    return list(values)


def scoring_records(n: int, **columns: Any) -> list[dict[str, Any] | None]:
    """Build the ``scoring.score`` record of each row from TRL's dataset-column kwargs.

    The answer comes from ``ground_truth`` when present, else from the ``<answer>`` tags of ``solution``. Rows
    whose ``question_type`` is ``None`` get ``None`` (no accuracy reward applies).

    Raises:
        ValueError: ``question_type`` or both answer columns are missing, or a column has the wrong length.

    Example:
        >>> scoring_records(1, question_type=["object_counting"], solution=["<answer>4</answer>"])
        [{'question_type': 'object_counting', 'ground_truth': '4', 'options': []}]
    """
    from spatial_r1_eval.records import training_row_ground_truth

    question_types = _column(columns, "question_type", n)
    if question_types is None:
        raise ValueError("accuracy reward needs the dataset column 'question_type'")
    truths = _column(columns, "ground_truth", n)
    solutions = _column(columns, "solution", n)
    if truths is None and solutions is None:
        raise ValueError("accuracy reward needs the dataset column 'ground_truth' or 'solution'")
    options = _column(columns, "options", n) or [None] * n
    records: list[dict[str, Any] | None] = []
    for i, qt in enumerate(question_types):
        if qt is None:
            records.append(None)
            continue
        row = {"ground_truth": truths[i] if truths else None, "solution": solutions[i] if solutions else None}
        truth = training_row_ground_truth(row)  # the one "answer of a training row" (spatial_r1_eval.records)
        records.append({"question_type": qt, "ground_truth": truth, "options": list(options[i] or [])})
    return records


def _nar_options(start: float, end: float, interval: float) -> dict[str, float]:
    defaults = (0.5, 0.95, 0.05)
    if (start, end, interval) == defaults:
        return {}
    metrics.thresholds(start, end, interval)  # validates
    return {"start": start, "end": end, "interval": interval}


def _score_columns(
    completions: Sequence[Any], nar_options: dict[str, float], columns: dict[str, Any], device: Any = None
) -> tuple[list[int], Any]:
    """The rows with a ``question_type`` and their ``scoring.score_batch`` scores (a tensor on ``device`` if given)."""
    columns = {k: v for k, v in columns.items() if k not in _TRL_KWARGS}
    records = scoring_records(len(completions), **columns)
    rows = [i for i, r in enumerate(records) if r is not None]
    predictions = [completion_text(completions[i]) for i in rows]
    return rows, scoring.score_batch(predictions, [records[i] for i in rows], device=device, **nar_options)


def _accuracy(
    completions: Sequence[Any], nar_options: dict[str, float], columns: dict[str, Any]
) -> list[float | None]:
    rows, scores = _score_columns(completions, nar_options, columns)
    out: list[float | None] = [None] * len(completions)
    for i, s in zip(rows, scores.tolist(), strict=True):
        out[i] = float(s)
    return out


@dataclass(frozen=True)
class AccuracyReward:
    """The accuracy reward (NAR for numerical rows, MAR for multiple choice) with the given NAR thresholds.

    A picklable callable in TRL's reward signature, logged by TRL as ``accuracy`` (its ``__name__``). With the
    default thresholds it gives exactly :func:`accuracy_reward`.

    Args:
        nar_start: First NAR confidence threshold.
        nar_end: Last NAR confidence threshold.
        nar_interval: Step between thresholds.

    Raises:
        ValueError: Thresholds that make no NAR (e.g. ``nar_start > nar_end``).

    Example:
        >>> strict = AccuracyReward(nar_start=0.9, nar_end=0.95, nar_interval=0.05)
        >>> strict(["<answer>4.3</answer>"], question_type=["object_counting"], ground_truth=["4"])
        [0.5]
        >>> strict.__name__, strict
        ('accuracy', AccuracyReward(nar_start=0.9, nar_end=0.95, nar_interval=0.05))
        >>> import pickle
        >>> pickle.loads(pickle.dumps(strict)) == strict
        True
    """

    __name__ = "accuracy"  # TRL's reward name: rewards/accuracy/mean

    nar_start: float = 0.5
    nar_end: float = 0.95
    nar_interval: float = 0.05

    def __post_init__(self) -> None:
        _nar_options(self.nar_start, self.nar_end, self.nar_interval)  # validates

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        """Score each completion against its row (see :func:`accuracy_reward`)."""
        return _accuracy(completions, _nar_options(self.nar_start, self.nar_end, self.nar_interval), kwargs)


#: The name the trainer and older scripts use: ``get_accuracy_reward(nar_start=...)`` is an :class:`AccuracyReward`.
get_accuracy_reward = AccuracyReward


def accuracy_reward(completions: Sequence[Any], **columns: Any) -> list[float | None]:
    """Accuracy reward: ``spatial_r1_eval.scoring`` score of each completion against its row (NAR or MAR).

    Args:
        completions: Strings or conversational completions, one per row.
        **columns: TRL's dataset columns: ``question_type``, ``ground_truth`` or ``solution``, ``options``.

    Returns:
        One score in [0, 1] per completion (``None`` where ``question_type`` is ``None``).

    Example:
        >>> accuracy_reward(["<answer>C</answer>", "no answer at all"], question_type=["object_rel_distance"] * 2,
        ...                 ground_truth=["C", "C"], options=[["A. bed", "B. sofa", "C. tv", "D. desk"]] * 2)
        [1.0, 0.0]
    """
    return _accuracy(completions, {}, columns)


def format_reward(completions: Sequence[Any], **columns: Any) -> list[float | None]:
    """Format reward: 1.0 iff the completion is ``<think>…</think>`` then ``<answer>…</answer>``.

    Example:
        >>> format_reward(["<think>x</think><answer>3</answer>", "<answer>3</answer>", None])
        [1.0, 0.0, 0.0]
    """
    return [float(metrics.format_reward(completion_text(c))) for c in completions]


accuracy_reward.__name__ = "accuracy"
format_reward.__name__ = "format"

#: Reward functions by the name recipes use; TRL logs them as ``rewards/<name>/mean``.
REWARD_FUNCS: dict[str, RewardFunc] = {"accuracy": accuracy_reward, "format": format_reward}
#: The rewards that take options (:func:`get_reward_funcs` passes them on); the others are used as they are.
_WITH_OPTIONS: dict[str, Callable[..., RewardFunc]] = {"accuracy": AccuracyReward}


def get_reward_funcs(names: Sequence[str], **options: Any) -> list[RewardFunc]:
    """Build the reward functions named in a recipe.

    Args:
        names: Keys of :data:`REWARD_FUNCS`.
        **options: Options of the rewards that take them (``nar_start``, ``nar_end``, ``nar_interval`` for
            ``accuracy``, see :class:`AccuracyReward`).

    Returns:
        One picklable reward per name, in order: an :class:`AccuracyReward` for ``accuracy``,
        :func:`format_reward` for ``format``.

    Raises:
        ValueError: An unknown name.

    Example:
        >>> [f.__name__ for f in get_reward_funcs(["accuracy", "format"], nar_start=0.5)]
        ['accuracy', 'format']
    """
    funcs = []
    for name in names:
        if name not in REWARD_FUNCS:
            raise ValueError(f"unknown reward {name!r} (known: {', '.join(sorted(REWARD_FUNCS))})")
        funcs.append(_WITH_OPTIONS[name](**options) if name in _WITH_OPTIONS else REWARD_FUNCS[name])
    return funcs


def accuracy_reward_tensor(completions: Sequence[Any], *, device: Any = "cpu", **columns: Any):
    """:func:`accuracy_reward` as a float32 tensor on ``device`` (the training device); ``None`` rows → NaN.

    Numerical rows are scored with one vectorised ``metrics.nar`` call on ``device``.

    Example:
        >>> accuracy_reward_tensor(["<answer>4</answer>", "<answer>5</answer>"],
        ...                        question_type=["object_counting"] * 2, ground_truth=["4", "4"])
        tensor([1.0000, 0.6000])
    """
    import torch

    nar_options = columns.pop("nar_options", None) or {}
    rows, scores = _score_columns(completions, nar_options, columns, device)
    out = torch.full((len(completions),), float("nan"), dtype=torch.float32, device=device)
    if rows:
        out[torch.as_tensor(rows, device=device)] = scores
    return out
