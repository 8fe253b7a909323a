"""Readers for the spatial-QA files people have, with the format detected from the first row.

Two row formats, in ``.jsonl``, ``.json`` (a list of rows, or ``{"data": [...]}``) or ``.parquet`` files:

* **vsibench** — VSI-Bench rows and our ``sr.jsonl``: ``scene_name``, ``question_type``, ``question``, ``options``
  (a list, or null for numerical questions) and ``ground_truth`` (a number or an option letter); ``dataset``
  optional (else taken from the scene name's shape).
* **video-r1** — Video-R1 / Spatial-R1 training rows and our ``sr_train.jsonl``: ``problem``, ``problem_type``,
  ``options``, ``solution`` (with or without ``<answer>`` tags), the video in ``path`` or ``video`` (the scene is
  the path component that looks like a scene name: ``…/scene0024_02.mp4``, ARKitScenes 8-digit ids, ScanNet++
  10-hex-digit hashes), optionally ``question_type``.

Rows without a known ``question_type`` get the type whose template the question matches
(:func:`~spatial_r1_eval.generation.templates.infer_question`); direction questions may be open-ended text without
options (``<answer>left</answer>``): they get VSI-Bench's option list for their level, so that they score and fit
like the benchmark's. A row that is not an object, lacks a required field or has a field of the wrong type is a
one-line ``ValueError`` naming the file, line and field.

>>> row = normalise({"problem": "How many chair(s) are in this room?", "problem_type": "numerical",
...                  "options": [], "solution": "<answer>3</answer>", "path": "videos/scannet/scene0024_02.mp4"},
...                 "video-r1", 0, 1, "train.jsonl")
>>> row.scene, row.dataset, row.question_type, row.ground_truth, row.type_inferred
('scene0024_02', 'scannet', 'object_counting', '3', True)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatial_r1_eval.answers import parse_choice
from spatial_r1_eval.generation.scene_lists import dataset_of_scene, scene_from_path
from spatial_r1_eval.generation.templates import DIRECTION_CHOICES, infer_question
from spatial_r1_eval.questions import QUESTION_TYPES, is_multiple_choice
from spatial_r1_eval.records import solution_answer
from spatial_r1_eval.tasks.baselines import option_text

#: format name -> fields every row of that format must have
REQUIRED: dict[str, tuple[str, ...]] = {
    "vsibench": ("scene_name", "question_type", "question", "ground_truth"),
    "video-r1": ("problem", "solution"),
}
FORMAT_HELP = {
    "vsibench": "VSI-Bench / sr.jsonl rows (scene_name, question_type, question, options, ground_truth)",
    "video-r1": "Video-R1 / Spatial-R1 training rows (problem, problem_type, options, solution, path or video)",
}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(slots=True)
class AuditRow:
    """One question, normalised.

    Attributes:
        index: Position in the file (0-based).
        line: Line number (JSON lines) or item number (JSON list, Parquet), 1-based.
        id: The row's ``id`` / ``problem_id``, else the line number.
        scene: Scene name, or ``None`` when the row names none.
        dataset: ``scannet`` / ``arkitscenes`` / ``scannetpp`` (or the row's own), or ``None``.
        question_type: A known question type, or ``None`` (a question none of the templates matches).
        type_inferred: Whether the type comes from the template rather than the row.
        question: The question text.
        options: Option strings (``"A. left"``); open-ended direction rows get their level's option list.
        ground_truth: The option letter (multiple choice), the answer text (numerical), or the raw answer.
        fields: Template field values (category names), or ``None``.
        open_ended: A direction row answered in text without options.
    """

    index: int
    line: int
    id: str
    scene: str | None
    dataset: str | None
    question_type: str | None
    type_inferred: bool
    question: str
    options: list[str]
    ground_truth: str
    fields: dict[str, str] | None
    open_ended: bool = False

    def record(self) -> dict[str, Any]:
        """The row as a scoring-core record (``id``, ``question_type``, ``options``, ``ground_truth``)."""
        return {
            "id": self.id,
            "question_type": self.question_type,
            "options": self.options,
            "ground_truth": self.ground_truth,
        }

    def answer_text(self) -> str | None:
        """The text of the correct option (multiple choice), else ``None``."""
        k = _LETTERS.find(self.ground_truth) if len(self.ground_truth) == 1 else -1
        return option_text(self.options[k]) if 0 <= k < len(self.options) else None


def detect_format(row: Any, where: str) -> str:
    """The format of a file from its first row (see the module docstring).

    Raises:
        ValueError: a row of neither format (the message lists both formats' fields and the row's fields).

    >>> detect_format({"problem": "q", "solution": "A"}, "f:1")
    'video-r1'
    """
    if not isinstance(row, Mapping):
        raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for fmt, fields in REQUIRED.items():
        if all(f in row for f in fields):
            return fmt
    raise ValueError(
        f"{where}: unknown row format (fields: {', '.join(sorted(map(str, row))) or 'none'}); expected "
        + " or ".join(FORMAT_HELP.values())
    )


def _text(row: Mapping[str, Any], name: str, where: str, required: bool = True) -> str | None:
    value = row.get(name)
    if value is None:
        if required:
            raise ValueError(f"{where}: field {name!r} is missing or null")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{where}: field {name!r} must be a string, got {type(value).__name__}")
    return value


def _options(row: Mapping[str, Any], where: str) -> list[str]:
    value = row.get("options")
    if value is None:
        return []
    if hasattr(value, "tolist"):  # a NumPy array from Parquet
        value = value.tolist()
    if not isinstance(value, list) or not all(isinstance(o, str) for o in value):
        raise ValueError(f"{where}: field 'options' must be a list of strings or null, got {value!r:.60}")
    return value


def normalise(row: Any, fmt: str, index: int, line: int, source: str, cache: dict[str, Any] | None = None) -> AuditRow:
    """One row of format ``fmt`` as an :class:`AuditRow` (``source`` names the file in errors; ``cache`` keeps the
    template match of each distinct question text across rows)."""
    where = f"{source}:{line}"
    if not isinstance(row, Mapping):
        raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
    missing = [f for f in REQUIRED[fmt] if f not in row]
    if missing:
        raise ValueError(f"{where}: missing field {missing[0]!r} ({FORMAT_HELP[fmt]} expected, as in row 1)")
    options = _options(row, where)
    rid = row.get("id", row.get("problem_id", line))
    if fmt == "vsibench":
        question = _text(row, "question", where)
        scene = _text(row, "scene_name", where)
        given_type = _text(row, "question_type", where)
        truth = _text(row, "ground_truth", where, required=False) or ""
    else:
        question = _text(row, "problem", where)
        video = _text(row, "path", where, required=False) or _text(row, "video", where, required=False)
        scene = _text(row, "scene_name", where, required=False) or (scene_from_path(video) if video else None)
        given_type = _text(row, "question_type", where, required=False)
        truth = solution_answer(_text(row, "solution", where, required=False))
    dataset = _text(row, "dataset", where, required=False) or (dataset_of_scene(scene) if scene else None)
    if cache is None:
        inferred = infer_question(question)
    elif question in cache:
        inferred = cache[question]
    else:
        inferred = cache[question] = infer_question(question)
    if given_type in QUESTION_TYPES:
        qt, type_inferred = given_type, False
        fields = inferred[1] if inferred is not None and inferred[0] == qt else None
    elif inferred is not None:
        (qt, fields), type_inferred = inferred, True
    else:
        qt, fields, type_inferred = None, None, False
    truth = truth.strip()
    open_ended = False
    if qt is not None and is_multiple_choice(qt):
        if not options and qt in DIRECTION_CHOICES:
            open_ended = True
            options = [f"{_LETTERS[i]}. {t}" for i, t in enumerate(DIRECTION_CHOICES[qt])]
        if fmt == "video-r1" and options:  # "<answer>B</answer>", "B. left" or "left" -> the letter
            truth = parse_choice(truth, options) or truth
    return AuditRow(index, line, str(rid), scene, dataset, qt, type_inferred, question, options, truth, fields,
                    open_ended)  # fmt: skip


def _raw_rows(path: Path) -> Iterator[tuple[int, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as e:  # noqa: BLE001 - pyarrow raises several types for a bad file
            raise ValueError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
        yield from enumerate(table.to_pylist(), 1)
        return
    if suffix == ".json":
        from spatial_r1_eval.files import read_json

        data = read_json(path)
        if isinstance(data, Mapping) and isinstance(data.get("data"), list):
            data = data["data"]
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of rows (or {{'data': [...]}}), got {type(data).__name__}")
        yield from enumerate(data, 1)
        return
    with path.open(encoding="utf-8") as f:
        for lineno, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                yield lineno, json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: malformed JSON: {e.msg}") from None


def read_rows(path: str | os.PathLike[str], *, progress: bool = False) -> tuple[str, list[AuditRow]]:
    """Read a question file: ``(format, rows)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: an empty file, an unknown format or a malformed row (one line naming file, line and field).
    """
    from tqdm import tqdm

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    fmt: str | None = None
    rows: list[AuditRow] = []
    cache: dict[str, Any] = {}
    try:
        for line, raw in tqdm(_raw_rows(path), desc="read", unit=" rows", disable=not progress, mininterval=0.5):
            if fmt is None:
                fmt = detect_format(raw, f"{path}:{line}")
            rows.append(normalise(raw, fmt, len(rows), line, str(path), cache))
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file (expected .jsonl, .json or .parquet)") from None
    if fmt is None:
        raise ValueError(f"{path}: no rows")
    return fmt, rows
