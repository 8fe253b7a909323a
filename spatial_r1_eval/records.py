"""The three record schemas of the toolkit, the converters between them and one validator per schema.

``docs/records.md`` describes them with examples and says which command writes and reads each.

* :class:`SRRecord` — one question of the SR dataset as ``spatial-r1 generate`` writes it to ``sr.jsonl`` (and,
  ``meta`` as JSON text, to ``sr.parquet``); VSI-Bench's own rows have the same fields but ``video`` and ``meta``.
* :class:`TrainingRow` — one line of ``sr_train.jsonl``, the Video-R1 / Spatial-R1 training schema that
  ``spatial-r1 train`` reads (answer as ``solution: "<answer>X</answer>"``).
* :class:`LmmsDocument` — one question as our lmms-eval tasks hand it to lmms-eval (flat strings, the video as an
  absolute path, ``meta`` as JSON text).

The SR record and the document share the seven fields of :class:`Question` (VSI-Bench's row: ``id`` ...
``ground_truth``) and add their own video and ``meta`` fields.

Converters: :func:`record_to_training_row` (SR record → training row), :func:`record_to_document` (SR or
VSI-Bench record → lmms-eval document), :func:`training_row_ground_truth` (training row → the record's
``ground_truth``). Validators (``ValueError`` naming ``where``, the file and line, and the field):
:func:`validate_sr_record`, :func:`validate_training_row`, :func:`validate_document`.

The field tuples (:data:`SR_RECORD_FIELDS`, :data:`TRAINING_ROW_FIELDS`, :data:`TRAINING_ROW_REQUIRED`,
:data:`DOCUMENT_FIELDS`) are read off the ``TypedDict`` definitions, in the order the writers write the keys.

>>> record = {"id": "sr-s-object_counting-3e0cb4819d", "dataset": "scannet", "scene_name": "s",
...           "question_type": "object_counting", "question": "How many chair(s) are in this room?",
...           "options": [], "ground_truth": "3", "video": "scannet/s.mp4", "meta": {"value": 3}}
>>> validate_sr_record(record, "sr.jsonl:1")
>>> training_row_ground_truth(record_to_training_row(record, 0)) == record["ground_truth"]
True
>>> record_to_document(record, "/data/sr/videos/scannet/s.mp4", "sr.jsonl:1")["meta"]
'{"value": 3}'
"""

# No ``from __future__ import annotations`` here: ``TypedDict`` reads ``NotRequired`` off evaluated annotations
# (Python 3.11 does not see it inside a string annotation), and :data:`TRAINING_ROW_REQUIRED` depends on it.

import json
import os
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

from spatial_r1_eval.answers import extract_answer
from spatial_r1_eval.prompts import build_reasoning_prompt
from spatial_r1_eval.questions import QUESTION_TYPES, problem_type

__all__ = [
    "DOCUMENT_FIELDS",
    "DOCUMENT_SOURCE_FIELDS",
    "LmmsDocument",
    "Question",
    "SRRecord",
    "SR_RECORD_FIELDS",
    "TRAINING_ROW_FIELDS",
    "TRAINING_ROW_REQUIRED",
    "TrainingRow",
    "record_to_document",
    "record_to_training_row",
    "solution_answer",
    "training_row_ground_truth",
    "validate_document",
    "validate_sr_record",
    "validate_training_row",
]


class Question(TypedDict):
    """The fields an SR record and an lmms-eval document share (VSI-Bench's own rows have them too, ``id`` a number
    and ``options`` null for numerical questions there); a document holds them as text, ``""`` / ``[]`` when the
    record lacks one."""

    id: str
    """``str``: the question's id; SR: ``sr-<scene_name>-<question_type>-<10 hex digits of sha1(question)>``
    (stable across runs)."""
    dataset: str
    """``str``: source dataset of the scene and folder of its video (SR: ``"scannet"``)."""
    scene_name: str
    """``str``: the scan, e.g. ``"scene0000_00"``."""
    question_type: str
    """``str``: one of :data:`spatial_r1_eval.questions.QUESTION_TYPES` (VSI-Bench's names)."""
    question: str
    """``str``: the question text (VSI-Bench templates), without options or answer-format instructions."""
    options: list[str]
    """``list[str]``: ``"A. text"``, ``"B. text"``, ... for multiple-choice types; ``[]`` for numerical types."""
    ground_truth: str
    """``str``: the answer. Multiple choice: the option letter (``"B"``). Numerical, a positive number as text:
    ``object_counting`` objects, ``object_size_estimation`` centimetres (longest box side),
    ``room_size_estimation`` square metres, ``object_abs_distance`` metres (closest points of the two boxes)."""


class SRRecord(Question):
    """One SR question, a line of ``sr.jsonl`` (VSI-Bench-compatible; written by ``spatial-r1 generate``)."""

    video: str
    """``str``: the scene's video relative to the output folder's ``videos/``: ``"<dataset>/<scene_name>.mp4"``
    (24 fps H.264; the file exists only for scenes with frames)."""
    meta: dict[str, Any]
    """``dict``: how the answer was computed, for audits (keys sorted). Every type: ``variant`` (``"paper"`` or
    ``"vsibench"``); numerical types: ``value`` (the unrounded answer, unit of ``ground_truth``); multiple choice:
    ``answer_text`` (the correct option's text); per type e.g. ``category``, ``categories``, ``object_id``,
    ``distances`` (m), ``angle_deg`` (degrees), ``first_seen_s`` (seconds into the video), ``waypoints``;
    scenes with a video: ``video_width``, ``video_height`` (pixels), ``video_fps`` (frames per second)."""


class TrainingRow(TypedDict):
    """One training question, a line of ``sr_train.jsonl`` (the Video-R1 / Spatial-R1 schema).

    ``spatial-r1 train`` needs the required fields only, so that Video-R1 / Spatial-R1 files from elsewhere load too.
    """

    problem_id: NotRequired[int]
    """``int``: position of the row in the file (0-based); any id in other files."""
    problem: str
    """``str``: the question text (the SR record's ``question``)."""
    data_type: NotRequired[str]
    """``str``: always ``"video"`` (the trainer rejects anything else)."""
    problem_type: str
    """``str``: ``"numerical"`` or ``"multiple choice"`` (:func:`spatial_r1_eval.questions.problem_type`)."""
    options: NotRequired[list[str]]
    """``list[str]``: the SR record's ``options`` (``[]`` for numerical questions)."""
    process: NotRequired[str]
    """``str``: a reference reasoning trace (Video-R1's chain-of-thought field); ``""`` in SR (GRPO needs none)."""
    solution: str
    """``str``: the answer in tags, ``"<answer>X</answer>"`` with ``X`` the SR record's ``ground_truth``."""
    path: str
    """``str``: the video relative to the JSONL file's folder, ``"videos/<dataset>/<scene_name>.mp4"``; may not
    leave that folder."""
    data_source: NotRequired[str]
    """``str``: where the question comes from: ``"SR"``."""
    question_type: str
    """``str``: one of :data:`spatial_r1_eval.questions.QUESTION_TYPES` (routes the accuracy reward: NAR or MAR)."""
    id: NotRequired[str]
    """``str``: the SR record's ``id``."""
    prompt: NotRequired[str]
    """``str``: the reasoning prompt (:func:`spatial_r1_eval.prompts.build_reasoning_prompt`) the trainer sends."""


class LmmsDocument(Question):
    """One question as our lmms-eval tasks load it (``process_docs``; every value a string but ``options``)."""

    video_path: str
    """``str``: absolute path of the question's video (need not exist for the ``_blind`` tasks)."""
    meta: str
    """``str``: the record's ``meta`` as JSON text (keys sorted; ``"{}"`` when absent), kept for the sample logs."""


SR_RECORD_FIELDS: tuple[str, ...] = tuple(SRRecord.__annotations__)
"""The keys of an SR record, in the order ``spatial-r1 generate`` writes them."""

TRAINING_ROW_FIELDS: tuple[str, ...] = tuple(TrainingRow.__annotations__)
"""The keys of a training row, in the order ``spatial-r1 generate`` writes them to ``sr_train.jsonl``."""

TRAINING_ROW_REQUIRED: tuple[str, ...] = tuple(f for f in TRAINING_ROW_FIELDS if f in TrainingRow.__required_keys__)
"""The training-row fields ``spatial-r1 train`` needs (non-empty), in file order."""

DOCUMENT_FIELDS: tuple[str, ...] = tuple(LmmsDocument.__annotations__)
"""The keys of an lmms-eval document, in order."""

DOCUMENT_SOURCE_FIELDS: tuple[str, ...] = ("id", "question_type", "question", "ground_truth")
"""The fields a record needs (not null) to become an lmms-eval document; the others get defaults."""

_RECORD_TEXT_FIELDS = tuple(f for f in SR_RECORD_FIELDS if SRRecord.__annotations__[f] is str)


def _check_present(record: Any, fields: tuple[str, ...], where: str) -> None:
    """``record`` is a mapping and none of ``fields`` is absent or null (else a one-line ``ValueError``)."""
    if not isinstance(record, Mapping):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for name in fields:
        if record.get(name) is None:
            raise ValueError(f"{where}: record has no {name!r} field")


def validate_sr_record(record: Any, where: str = "record") -> None:
    """Check an SR record as ``spatial-r1 generate`` writes it: every :data:`SR_RECORD_FIELDS` field, typed.

    Args:
        record: The record (a line of ``sr.jsonl``, parsed).
        where: File and line for the message (``"sr.jsonl:3"``).

    Raises:
        ValueError: One line naming ``where`` and the field: a missing or null field, a field of the wrong type,
            an unknown ``question_type``, or a multiple-choice record without options.

    Example:
        >>> validate_sr_record({"id": "x", "question_type": "object_counting"}, "sr.jsonl:3")
        Traceback (most recent call last):
        ...
        ValueError: sr.jsonl:3: record has no 'dataset' field
    """
    _check_present(record, SR_RECORD_FIELDS, where)
    for name in _RECORD_TEXT_FIELDS:
        if not isinstance(record[name], str):
            raise ValueError(f"{where}: field {name!r} must be a string, got {type(record[name]).__name__}")
    options = record["options"]
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise ValueError(f"{where}: field 'options' must be a list of strings, got {options!r:.60}")
    if not isinstance(record["meta"], Mapping):
        raise ValueError(f"{where}: field 'meta' must be an object, got {type(record['meta']).__name__}")
    qt = record["question_type"]
    if qt not in QUESTION_TYPES:
        raise ValueError(
            f"{where}: field 'question_type': unknown question type {qt!r}; expected one of "
            f"{', '.join(sorted(QUESTION_TYPES))}"
        )
    if (problem_type(qt) == "multiple choice") != bool(options):
        raise ValueError(f"{where}: field 'options': {qt} records have {'no ' if options else ''}options")


def validate_training_row(row: Any, where: str = "row") -> None:
    """Check a training row as ``spatial-r1 train`` reads it (the checks of ``trainer.data.training_row``).

    The :data:`TRAINING_ROW_REQUIRED` fields must be present and non-empty, ``data_type`` (if given) ``"video"``,
    ``options`` (if given) a list. Where the video is and whether it exists is the trainer's check.

    Args:
        row: The row (a line of ``sr_train.jsonl``, parsed).
        where: File and line for the message.

    Raises:
        ValueError: One line naming ``where`` and the field.

    Example:
        >>> validate_training_row({"problem": "How many?", "problem_type": "numerical"}, "sr_train.jsonl:2")
        Traceback (most recent call last):
        ...
        ValueError: sr_train.jsonl:2: missing field 'solution'
    """
    _check_present(row, (), where)
    for field in TRAINING_ROW_REQUIRED:
        if row.get(field) in (None, ""):
            raise ValueError(f"{where}: missing field {field!r}")
    if row.get("data_type", "video") != "video":
        raise ValueError(f"{where}: data_type must be 'video', got {row.get('data_type')!r}")
    options = row.get("options") or []
    if not isinstance(options, list):
        raise ValueError(f"{where}: options must be a list, got {type(options).__name__}")


def validate_document(record: Any, where: str = "record") -> None:
    """Check that a record (SR or VSI-Bench row) can become an lmms-eval document (:func:`record_to_document`).

    The :data:`DOCUMENT_SOURCE_FIELDS` must not be null; ``options`` must be a list (or null, or absent). A
    document itself (:class:`LmmsDocument`) passes too.

    Args:
        record: The record.
        where: File and line for the message.

    Raises:
        ValueError: One line naming ``where`` and the field.

    Example:
        >>> validate_document({"id": 1, "question_type": "object_counting", "question": "How many?"}, "test.jsonl:9")
        Traceback (most recent call last):
        ...
        ValueError: test.jsonl:9: record has no 'ground_truth' field
    """
    _check_present(record, DOCUMENT_SOURCE_FIELDS, where)
    options = record.get("options") or []
    if not isinstance(options, (list, tuple)):
        raise ValueError(f"{where}: field 'options' must be a list, got {type(options).__name__}")


def record_to_training_row(record: Mapping[str, Any], problem_id: int) -> TrainingRow:
    """The training row of an SR record (``path`` relative to the output folder, the reasoning prompt included).

    Args:
        record: An SR record (``id``, ``question_type``, ``question``, ``options``, ``ground_truth``, ``video``).
        problem_id: The row's ``problem_id`` (its position in ``sr_train.jsonl``).

    Returns:
        The row, keys in :data:`TRAINING_ROW_FIELDS` order.

    Example:
        >>> rec = {"id": "x", "scene_name": "s", "question_type": "object_counting", "options": [],
        ...        "question": "How many chair(s) are in this room?", "ground_truth": "3", "video": "scannet/s.mp4"}
        >>> row = record_to_training_row(rec, 7)
        >>> row["problem_id"], row["problem_type"], row["solution"], row["path"]
        (7, 'numerical', '<answer>3</answer>', 'videos/scannet/s.mp4')
    """
    qt = record["question_type"]
    return {
        "problem_id": problem_id,
        "problem": record["question"],
        "data_type": "video",
        "problem_type": problem_type(qt),
        "options": list(record.get("options") or []),
        "process": "",
        "solution": f"<answer>{record['ground_truth']}</answer>",
        "path": f"videos/{record['video']}",
        "data_source": "SR",
        "question_type": qt,
        "id": record["id"],
        "prompt": build_reasoning_prompt(record),
    }


def solution_answer(solution: Any) -> str:
    """The answer inside a training row's ``solution`` (the last ``<answer>`` tag; untagged text as it is).

    Example:
        >>> solution_answer("<answer> B </answer>"), solution_answer("42"), solution_answer(None)
        ('B', '42', '')
    """
    return extract_answer(solution).strip()


def training_row_ground_truth(row: Mapping[str, Any]) -> str:
    """The answer of a training row: ``ground_truth`` when present and non-empty, else the content of ``solution``.

    The inverse of :func:`record_to_training_row` on the answer: it gives back the SR record's ``ground_truth``.

    Example:
        >>> training_row_ground_truth({"solution": "<answer>B</answer>"})
        'B'
        >>> training_row_ground_truth({"ground_truth": 42, "solution": "<answer>42</answer>"})
        '42'
    """
    truth = row.get("ground_truth")
    if truth not in (None, ""):
        return str(truth)
    return solution_answer(row.get("solution"))


def record_to_document(record: Mapping[str, Any], video_path: str | os.PathLike[str], where: str) -> LmmsDocument:
    """One question as an lmms-eval document with the fields in :data:`DOCUMENT_FIELDS`.

    Args:
        record: A VSI-Bench / SR record (``id``, ``dataset``, ``scene_name``, ``question_type``, ``question``,
            ``options`` (list or null), ``ground_truth``, optional ``meta``); checked by :func:`validate_document`.
        video_path: Where the record's video is (need not exist: blind tasks never read it).
        where: File and line for error messages.

    Returns:
        A flat dict: ``id``/``ground_truth`` as strings, ``options`` a list, ``meta`` JSON text (kept, not dropped).

    Raises:
        ValueError: a required field is missing (naming ``where`` and the field).

    >>> rec = {"id": 3, "dataset": "scannet", "scene_name": "s", "question_type": "object_counting",
    ...        "question": "How many chair(s)?", "options": None, "ground_truth": 4}
    >>> d = record_to_document(rec, "/v/s.mp4", "x:1")
    >>> d["id"], d["options"], d["ground_truth"], d["meta"]
    ('3', [], '4', '{}')
    """
    validate_document(record, where)
    options = record.get("options") or []
    meta = record.get("meta") or {}
    return {
        "id": str(record["id"]),
        "dataset": str(record.get("dataset") or ""),
        "scene_name": str(record.get("scene_name") or ""),
        "question_type": str(record["question_type"]),
        "question": str(record["question"]),
        "options": [str(o) for o in options],
        "ground_truth": str(record["ground_truth"]),
        "video_path": str(video_path),
        "meta": meta if isinstance(meta, str) else json.dumps(meta, sort_keys=True, ensure_ascii=False),
    }
