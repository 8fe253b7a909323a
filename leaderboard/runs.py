"""Read lmms-eval output folders: ``*_results.json`` and the per-question ``*_samples_<task>.jsonl`` logs.

lmms-eval 0.7.3 writes, for ``--output_path OUT``, one folder per model (``OUT/<model_name_sanitized>/``,
or ``OUT`` itself when the model has no ``pretrained=`` argument) holding ``<date_id>_results.json`` and, with
``--log_samples``, ``<date_id>_samples_<task>.jsonl`` (see ``lmms_eval/loggers/evaluation_tracker.py``).
A results file can hold several tasks; every VSI-Bench-style task in it (the built-in ``vsibench`` /
``vsibench_debiased`` and our ``sr``, ``sr_r1``, ``vsibench_direct``, ``vsibench_r1``) becomes one
:class:`TaskRun` (one table row).

Per-task scores come from the metrics in the results JSON (the built-in ``vsibench`` metric names, values
0-1). Per-question scores come from the sample logs: each logged sample holds the dict that the task's
``process_results`` returned (the document with ``question_type`` and its score field), and are aggregated
with :func:`spatial_r1_eval.aggregation.table_scores` -- never re-scored here.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spatial_r1_eval.aggregation import table_scores
from spatial_r1_eval.files import read_json, read_jsonl
from spatial_r1_eval.questions import METRIC_NAMES, TASKS

logger = logging.getLogger(__name__)

#: The eight table tasks plus ``overall``, in the paper's column order.
COLUMNS: tuple[str, ...] = (*TASKS, "overall")


#: lmms-eval tasks this reader knows by name (others are accepted when they report the metric names above).
KNOWN_TASKS: tuple[str, ...] = ("vsibench", "vsibench_debiased", "sr", "sr_r1", "vsibench_direct", "vsibench_r1")

#: Per-question score fields, in the order they are looked up in a logged sample's metric dict:
#: ``score`` (ours), ``accuracy`` (built-in multiple choice), ``MRA:.5:.95:.05`` (built-in numerical).
SCORE_FIELDS: tuple[str, ...] = ("score", "accuracy", "MRA:.5:.95:.05")

RESULTS_SUFFIX = "_results.json"


@dataclass(frozen=True)
class Samples:
    """Per-question scores of one task run (from its ``*_samples_<task>.jsonl``).

    Attributes:
        question_ids: Stable question key per row: the document's ``id`` when logged, else lmms-eval's ``doc_id``.
        question_types: VSI-Bench question type per row (``object_rel_direction_easy`` etc.).
        scores: Per-question score in [0, 1] (float64 array).
        path: The samples file.
    """

    question_ids: tuple[str, ...]
    question_types: tuple[str, ...]
    scores: np.ndarray
    path: Path

    def __len__(self) -> int:
        return len(self.question_ids)


@dataclass
class TaskRun:
    """One lmms-eval task in one results file: one row of the leaderboard.

    Attributes:
        name: Row label, ``"<model> (<task>)"`` (made unique with the date id when needed).
        model: ``model_name_sanitized`` from the results file, else lmms-eval's ``config.model``.
        task: lmms-eval task name.
        date_id: The timestamp prefix of the output files.
        results_path: The ``*_results.json`` file.
        scores: Column -> score in [0, 1], ``None`` where the task has no questions / no metric.
        samples: Per-question scores when the run was logged with ``--log_samples``.
        n_questions: lmms-eval's effective sample count for the task (``n-samples``), if recorded.
        model_args: lmms-eval's ``--model_args`` string (used to tell apart rows of the same model).
        notes: Disagreements found between the results JSON and the sample log.
    """

    name: str
    model: str
    task: str
    date_id: str
    results_path: Path
    scores: dict[str, float | None]
    samples: Samples | None = None
    n_questions: int | None = None
    model_args: str = ""
    notes: list[str] = field(default_factory=list)


def _finite_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _metric_value(task_results: dict[str, Any], metric: str) -> float | None:
    """Value of ``metric`` in one task's results (keys are ``"<metric>,<filter>"``; ``none`` filter preferred)."""
    if f"{metric},none" in task_results:
        return _finite_or_none(task_results[f"{metric},none"])
    for key in sorted(task_results):
        if key.startswith(f"{metric},"):
            return _finite_or_none(task_results[key])
    return None


def _is_vsibench_style(task: str, task_results: Any) -> bool:
    if not isinstance(task_results, dict):
        return False
    if task in KNOWN_TASKS:
        return True
    return any(_metric_value(task_results, m) is not None for m in METRIC_NAMES.values())


def find_results_files(path: str | os.PathLike[str]) -> list[Path]:
    """All lmms-eval ``*_results.json`` files at or below ``path`` (a results file, model folder or output root).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` holds no ``*_results.json`` (it is not an lmms-eval output folder).

    Example:
        >>> import tempfile
        >>> find_results_files(tempfile.mkdtemp())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: ...: not an lmms-eval output folder (no *_results.json in it or below it)
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such run folder")
    if p.is_file():
        if not p.name.endswith(RESULTS_SUFFIX):
            raise ValueError(f"{p}: not an lmms-eval results file (expected a name ending in {RESULTS_SUFFIX})")
        return [p]
    files = sorted(f for f in p.rglob(f"*{RESULTS_SUFFIX}") if f.is_file())
    if not files:
        raise ValueError(f"{p}: not an lmms-eval output folder (no *{RESULTS_SUFFIX} in it or below it)")
    return files


def _sample_metric_dict(sample: dict[str, Any]) -> dict[str, Any] | None:
    for metric in METRIC_NAMES.values():
        value = sample.get(metric)
        if isinstance(value, dict) and "question_type" in value:
            return value
    return None


def read_samples(path: str | os.PathLike[str]) -> Samples:
    """Per-question ids, types and scores from an lmms-eval ``*_samples_<task>.jsonl`` log.

    Each logged sample carries, under a metric name such as ``vsibench_overall``, the dict its task's
    ``process_results`` returned: the question document with ``question_type`` and a score field
    (``score``, ``accuracy`` or ``MRA:.5:.95:.05``).

    Raises:
        ValueError: a line lacks that dict or a finite score in [0, 1], or a question id repeats.
    """
    path = Path(path)
    rows = read_jsonl(path)
    ids: list[str] = []
    types: list[str] = []
    scores: list[float] = []
    seen: set[str] = set()
    for lineno, sample in enumerate(rows, 1):
        doc = _sample_metric_dict(sample)
        if doc is None:
            raise ValueError(
                f"{path}: sample {lineno} has no per-question metric dict with 'question_type' "
                f"(looked under {', '.join(METRIC_NAMES.values())})"
            )
        score = next((doc[k] for k in SCORE_FIELDS if k in doc), None)
        value = _finite_or_none(score)
        if value is None or not 0.0 <= value <= 1.0:
            raise ValueError(f"{path}: sample {lineno} has score {score!r}; expected one of {SCORE_FIELDS} in [0, 1]")
        qid = doc.get("id", sample.get("doc_id"))
        if qid is None:
            raise ValueError(f"{path}: sample {lineno} has neither a question 'id' nor a 'doc_id'")
        qid = str(qid)
        if qid in seen:
            raise ValueError(f"{path}: question id {qid!r} appears more than once")
        seen.add(qid)
        ids.append(qid)
        types.append(str(doc["question_type"]))
        scores.append(value)
    if not ids:
        raise ValueError(f"{path}: empty samples log")
    return Samples(tuple(ids), tuple(types), np.asarray(scores, dtype=np.float64), path)


def _model_name(results: dict[str, Any], results_path: Path) -> str:
    name = results.get("model_name_sanitized") or ""
    if not name:
        config = results.get("config") if isinstance(results.get("config"), dict) else {}
        name = str(config.get("model") or "")
    return name or results_path.parent.name


def _model_args(results: dict[str, Any]) -> str:
    config = results.get("config") if isinstance(results.get("config"), dict) else {}
    args = config.get("model_args") or ""
    return args if isinstance(args, str) else ",".join(f"{k}={v}" for k, v in sorted(dict(args).items()))


def read_results_file(path: str | os.PathLike[str], *, with_samples: bool = True) -> list[TaskRun]:
    """The VSI-Bench-style task runs recorded in one ``*_results.json`` (with their sample logs when present).

    Raises:
        ValueError: the file is not lmms-eval output or holds no VSI-Bench-style task.
    """
    path = Path(path)
    results = read_json(path)
    if not isinstance(results, dict) or not isinstance(results.get("results"), dict):
        raise ValueError(f"{path}: not an lmms-eval results file (no 'results' object)")
    date_id = path.name[: -len(RESULTS_SUFFIX)] if path.name.endswith(RESULTS_SUFFIX) else path.stem
    model = _model_name(results, path)
    n_samples = results.get("n-samples") if isinstance(results.get("n-samples"), dict) else {}
    runs: list[TaskRun] = []
    skipped = []
    for task in sorted(results["results"]):
        task_results = results["results"][task]
        if not _is_vsibench_style(task, task_results):
            skipped.append(task)
            continue
        scores = {c: _metric_value(task_results, METRIC_NAMES[c]) for c in COLUMNS}
        n = n_samples.get(task, {}).get("effective") if isinstance(n_samples.get(task), dict) else None
        run = TaskRun(
            name=f"{model} ({task})",
            model=model,
            task=task,
            date_id=date_id,
            results_path=path,
            scores=scores,
            n_questions=int(n) if isinstance(n, int) else None,
            model_args=_model_args(results),
        )
        samples_path = path.with_name(f"{date_id}_samples_{task}.jsonl")
        if with_samples and samples_path.is_file():
            run.samples = read_samples(samples_path)
            _reconcile(run)
        runs.append(run)
    if not runs:
        found = ", ".join(skipped) or "none"
        raise ValueError(f"{path}: no VSI-Bench-style task in this lmms-eval output (tasks found: {found})")
    return runs


def _reconcile(run: TaskRun) -> None:
    """Blank the columns with no questions in the sample log and note disagreements with the results JSON.

    lmms-eval's built-in ``vsibench`` reports 0.0 for a task with no questions; a table must show it as missing.
    """
    if run.samples is None:
        return
    from_samples = table_scores(run.samples.question_types, run.samples.scores)
    for column in COLUMNS:
        reported = run.scores[column]
        recomputed = from_samples[column]
        if recomputed is None:
            if reported is not None:
                run.notes.append(f"{column}: no questions in {run.samples.path.name}; reported {reported} ignored")
            run.scores[column] = None
        elif reported is None:
            run.scores[column] = recomputed
        elif abs(reported - recomputed) > 1e-5:
            msg = f"{column}: results JSON says {reported:.6f}, its samples give {recomputed:.6f}"
            run.notes.append(msg)
            logger.warning("%s: %s", run.results_path, msg)


def read_runs(paths: Iterable[str | os.PathLike[str]], *, with_samples: bool = True) -> list[TaskRun]:
    """Every VSI-Bench-style task run under the given lmms-eval output folders (or results files), in order.

    Row names are ``"<model> (<task>)"``; when two rows would share a name, the date id is appended.

    Raises:
        FileNotFoundError: a path does not exist.
        ValueError: a path is not lmms-eval output, or a log is malformed (one line naming the file).
    """
    runs: list[TaskRun] = []
    seen_files: set[Path] = set()
    for p in paths:
        for f in find_results_files(p):
            if f.resolve() in seen_files:
                continue
            seen_files.add(f.resolve())
            runs.extend(read_results_file(f, with_samples=with_samples))
    _make_names_unique(runs)
    return runs


def _make_names_unique(runs: Sequence[TaskRun]) -> None:
    """Disambiguate equal names: first by the model arguments, then by the date id, then by a number."""
    for suffix in (lambda r: f" [{r.model_args}]" if r.model_args else "", lambda r: f" @ {r.date_id}"):
        counts: dict[str, int] = {}
        for r in runs:
            counts[r.name] = counts.get(r.name, 0) + 1
        for r in runs:
            if counts[r.name] > 1:
                r.name += suffix(r)
    seen: dict[str, int] = {}
    for r in runs:  # same model, task and date id in two folders: number them
        if r.name in seen:
            seen[r.name] += 1
            r.name = f"{r.name} #{seen[r.name]}"
        else:
            seen[r.name] = 1
