"""Chance baselines for VSI-Bench / SR (the "Chance Level" rows of VSI-Bench and Spatial-R1's Table 1).

Both baselines read only the question documents (type, options, ground truth), never the video; they
are exposed to lmms-eval as the models ``chance_random`` and ``chance_frequency``
(:mod:`spatial_r1_eval.tasks.models`) and are normally run on the ``_blind`` task variants.

* **random** (:func:`random_prediction`): a uniformly drawn option letter, seeded per question (same seed,
  same answers in any order or subset). Numerical questions get an empty answer (it scores 0): random
  guessing has no defined distribution there, and the published "Chance Level (Random)" row leaves those
  columns empty -- read only its multiple-choice columns.
* **frequency** (:func:`fit_frequency`, :func:`frequency_prediction`), fitted on the evaluated questions
  themselves, per question type:

  - multiple choice: the option whose *text* is most often the correct answer of that type, when that
    text is offered in every question of the type (a closed answer set, e.g. ``left``/``right``);
    otherwise (per-question option sets: distances, appearance orders, routes) the most frequent correct
    *letter*. Ties go to the alphabetically first text / letter.
  - numerical: the one ground-truth value of that type that, answered for every question, maximises the
    mean NAR (ties: the smallest value).

  On the real VSI-Bench questions this reproduces the published "Chance Level (Frequency)" row (README).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatial_r1_eval.metrics import nar
from spatial_r1_eval.questions import is_numerical

__all__ = [
    "FrequencyAnswer",
    "option_text",
    "best_constant",
    "fit_frequency",
    "frequency_prediction",
    "random_prediction",
    "format_number",
    "FREQUENCY_ROW_TOLERANCE",
]

FREQUENCY_ROW_TOLERANCE: dict[str, float] = {
    "object_rel_direction": 0.05,
    "object_rel_distance": 0.05,
    "obj_appearance_order": 0.05,
    "room_size_estimation": 0.05,
    "object_counting": 0.5,
    "object_abs_distance": 0.5,
    "object_size_estimation": 0.5,
    "route_planning": 1.5,
}
"""How closely the frequency baseline on the real VSI-Bench questions reproduces the published "Chance Level
(Frequency)" row (``leaderboard.reference.load_reference("spatial-r1-table1")``), per table task, in points (0-100):
the published figures are rounded to 0.1, and the numerical columns and route planning come from a slightly
different question set, so they agree within 0.5 and 1.5 points."""

_OPTION_PREFIX = re.compile(r"^\s*\(?([A-Za-z])[.):]\s*")


def option_text(option: str) -> str:
    """An option without its letter prefix.

    >>> option_text("B. Turn Left, Turn Right"), option_text("(C) left"), option_text("sofa")
    ('Turn Left, Turn Right', 'left', 'sofa')
    """
    return _OPTION_PREFIX.sub("", str(option), count=1).strip()


def _letter(index: int) -> str:
    return chr(ord("A") + index)


def format_number(value: float) -> str:
    """A number as answer text that parses back to exactly ``value`` (integers without ``.0``).

    >>> format_number(2.0), format_number(1.9), format_number(91.25)
    ('2', '1.9', '91.25')
    """
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def best_constant(ground_truths: Iterable[float]) -> tuple[float, float]:
    """The ground-truth value that maximises the mean NAR when answered for every question.

    Args:
        ground_truths: Positive numerical ground truths of one question type.

    Returns:
        ``(value, mean_nar)``; ties go to the smallest value.

    Raises:
        ValueError: no ground truths.

    >>> best_constant([2, 2, 3, 10])
    (2.0, 0.6)
    """
    t = np.asarray(list(ground_truths), dtype=np.float64)
    if t.size == 0:
        raise ValueError("best_constant needs at least one ground truth")
    candidates = np.unique(t)  # sorted ascending: argmax picks the smallest among ties
    means = np.asarray(nar(candidates[:, None], t[None, :]), dtype=np.float64).mean(axis=1)
    best = int(np.argmax(means))
    return float(candidates[best]), float(means[best])


@dataclass(frozen=True)
class FrequencyAnswer:
    """The fitted frequency answer of one question type.

    Attributes:
        kind: ``"text"`` (answer the option with this text), ``"letter"`` or ``"number"``.
        value: The text, letter or number (as answer text).
        rate: The fitted score of this answer on the questions it was fitted on (0-1).
    """

    kind: str
    value: str
    rate: float


def fit_frequency(docs: Iterable[Mapping[str, Any]]) -> dict[str, FrequencyAnswer]:
    """Fit the frequency baseline per question type on ``docs`` (see the module docstring).

    Args:
        docs: Question documents with ``question_type``, ``ground_truth`` and (multiple choice) ``options``.

    Returns:
        question_type -> :class:`FrequencyAnswer`.

    Raises:
        ValueError: a multiple-choice ground truth that is not one of the question's option letters.

    >>> easy = "object_rel_direction_easy"
    >>> docs = [{"question_type": easy, "options": ["A. left", "B. right"], "ground_truth": "A"},
    ...         {"question_type": easy, "options": ["A. right", "B. left"], "ground_truth": "B"},
    ...         {"question_type": easy, "options": ["A. left", "B. right"], "ground_truth": "B"},
    ...         {"question_type": "object_counting", "ground_truth": "3"},
    ...         {"question_type": "object_counting", "ground_truth": "4"}]
    >>> fit = fit_frequency(docs)
    >>> fit["object_rel_direction_easy"].kind, fit["object_rel_direction_easy"].value
    ('text', 'left')
    >>> fit["object_counting"].value
    '3'
    """
    by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for doc in docs:
        by_type[str(doc["question_type"])].append(doc)
    fitted: dict[str, FrequencyAnswer] = {}
    for qt in sorted(by_type):
        group = by_type[qt]
        if is_numerical(qt):
            value, rate = best_constant(float(d["ground_truth"]) for d in group)
            fitted[qt] = FrequencyAnswer("number", format_number(value), rate)
            continue
        texts: Counter[str] = Counter()
        letters: Counter[str] = Counter()
        option_sets = []
        for d in group:
            options = [option_text(o) for o in (d.get("options") or [])]
            gt = str(d["ground_truth"]).strip().upper()
            index = ord(gt) - ord("A") if len(gt) == 1 else -1
            if not 0 <= index < len(options):
                raise ValueError(
                    f"question {d.get('id')!r}: ground_truth {d['ground_truth']!r} is not one of its "
                    f"{len(options)} option letters"
                )
            texts[options[index]] += 1
            letters[gt] += 1
            option_sets.append(options)
        top_text = min(texts, key=lambda t: (-texts[t], t))
        if all(top_text in options for options in option_sets):
            fitted[qt] = FrequencyAnswer("text", top_text, texts[top_text] / len(group))
        else:
            top_letter = min(letters, key=lambda t: (-letters[t], t))
            fitted[qt] = FrequencyAnswer("letter", top_letter, letters[top_letter] / len(group))
    return fitted


def frequency_prediction(doc: Mapping[str, Any], fitted: Mapping[str, FrequencyAnswer]) -> str:
    """The frequency baseline's answer to one question.

    >>> fit = {"object_rel_direction_easy": FrequencyAnswer("text", "left", 0.5)}
    >>> frequency_prediction({"question_type": "object_rel_direction_easy", "options": ["A. right", "B. left"]}, fit)
    'B'
    """
    answer = fitted[str(doc["question_type"])]
    if answer.kind == "text":
        options = [option_text(o) for o in (doc.get("options") or [])]
        if answer.value in options:
            return _letter(options.index(answer.value))
        return "A"  # the fitted docs all offer the text; an unseen question falls back to the first option
    return answer.value


def _question_seed(seed: int, key: str) -> int:
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def random_prediction(doc: Mapping[str, Any], seed: int = 0, key: str | None = None) -> str:
    """A uniformly random option letter, seeded per question; numerical questions get ``""``.

    Args:
        doc: The question document.
        seed: Run seed.
        key: Stable per-question key (default: the document ``id``).

    >>> doc = {"id": "7", "question_type": "route_planning", "options": ["A. x", "B. y", "C. z"]}
    >>> random_prediction(doc, seed=1) == random_prediction(dict(doc), seed=1) and random_prediction(doc) in "ABC"
    True
    >>> random_prediction({"id": "8", "question_type": "object_counting"})
    ''
    """
    if is_numerical(str(doc["question_type"])):
        return ""
    options = doc.get("options") or []
    if not options:
        raise ValueError(f"question {doc.get('id')!r}: multiple-choice question without options")
    rng = np.random.default_rng(_question_seed(seed, str(doc.get("id") if key is None else key)))
    return _letter(int(rng.integers(len(options))))
