"""The task logic behind our lmms-eval tasks (``sr``, ``sr_r1``, ``vsibench_direct``, ``vsibench_r1``).

Each task folder in ``tasks/`` holds a YAML file and a ``utils.py`` that only re-exports functions from
here, so the four tasks (and their ``_blind`` variants) share one implementation of data loading,
prompts, scoring and aggregation. Scoring goes through :func:`spatial_r1_eval.scoring.score`, aggregation
through :func:`spatial_r1_eval.aggregation.aggregate`, prompts through :mod:`spatial_r1_eval.prompts`.

Data (lmms-eval YAML cannot read environment variables, so each YAML loads a one-row stub file and its
``process_docs`` replaces it with the real questions):

* SR tasks: ``$SPATIAL_R1_SR_DIR`` = a generator output folder (``sr.jsonl`` + ``videos/<record video>``).
* VSI-Bench tasks: ``$VSIBENCH_DIR`` = a folder with ``test.jsonl`` (or ``test.parquet`` / ``*.parquet``) and
  ``<dataset>/<scene_name>.mp4``; unset: the questions of ``nyu-visionx/VSI-Bench`` from the Hugging Face
  hub and the videos where lmms-eval's built-in ``vsibench`` task unpacks them (``$HF_HOME/vsibench``).

Blind (vision-disabled) variants (``<task>_blind``) send the same text without the video and never read
video files. Non-blind variants check every video up front and fail with the first missing path.

Metric names are those of lmms-eval's built-in ``vsibench`` task (values 0-1, rounded to 6 digits like the
built-in); a task with no question in the evaluated subset reports ``None`` (shown as N/A), never a
made-up 0, and every subset (``--limit``, one question type) aggregates without error.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spatial_r1_eval.files import read_jsonl, resolve_inside
from spatial_r1_eval.questions import METRIC_NAMES
from spatial_r1_eval.records import DOCUMENT_FIELDS, record_to_document

logger = logging.getLogger(__name__)

SR_DIR_ENV = "SPATIAL_R1_SR_DIR"
"""Environment variable naming the SR data folder (the generator's ``out_dir``)."""

VSIBENCH_DIR_ENV = "VSIBENCH_DIR"
"""Environment variable naming a local VSI-Bench copy (``test.jsonl``/parquet + ``<dataset>/<scene>.mp4``)."""

VSIBENCH_HUB_ID = "nyu-visionx/VSI-Bench"
"""The Hugging Face dataset used when ``$VSIBENCH_DIR`` is unset."""


FORMAT_METRIC = "format_reward"
"""Extra metric of the reasoning tasks: share of completions in the ``<think>…</think><answer>…</answer>`` format."""

#: Fields every loaded question document carries (``video_path`` absolute, ``meta`` JSON text):
#: :class:`spatial_r1_eval.records.LmmsDocument`.
DOC_FIELDS: tuple[str, ...] = DOCUMENT_FIELDS


# ---------------------------------------------------------------------------------------------------------------
# data loading
# ---------------------------------------------------------------------------------------------------------------

#: One question as an lmms-eval document (the name the task code and its tests use).
normalise_record = record_to_document


def _env_dir(name: str, what: str) -> Path:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ValueError(f"{name} is not set: point it at {what}")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"{name}={value}: no such folder ({what})")
    return path


def load_sr_docs(sr_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Read the SR questions of a generator output folder (``sr.jsonl``; videos under ``videos/``).

    Args:
        sr_dir: The folder; default ``$SPATIAL_R1_SR_DIR``.

    Returns:
        Documents (see :func:`~spatial_r1_eval.records.record_to_document`) in file order.

    Raises:
        ValueError: ``$SPATIAL_R1_SR_DIR`` unset, a bad record, or a video path escaping ``videos/``.
        FileNotFoundError: the folder or ``sr.jsonl`` is missing.
    """
    root = Path(sr_dir) if sr_dir is not None else _env_dir(SR_DIR_ENV, "an SR folder with sr.jsonl and videos/")
    path = root / "sr.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {root} an SR output folder?)")
    docs = []
    for lineno, record in enumerate(read_jsonl(path), 1):
        where = f"{path}:{lineno}"
        if not record.get("video"):
            raise ValueError(f"{where}: record has no 'video' field")
        docs.append(record_to_document(record, resolve_inside(root / "videos", str(record["video"])), where))
    if not docs:
        raise ValueError(f"{path}: no questions in it")
    return docs


def _read_vsibench_table(root: Path) -> tuple[list[dict[str, Any]], Path]:
    jsonl = root / "test.jsonl"
    if jsonl.is_file():
        return read_jsonl(jsonl), jsonl
    parquets = sorted(root.glob("test*.parquet")) or sorted(root.glob("*.parquet"))
    if parquets:
        import pandas as pd

        frame = pd.concat([pd.read_parquet(p) for p in parquets], ignore_index=True)
        rows = frame.to_dict(orient="records")
        for row in rows:  # parquet lists come back as numpy arrays
            if row.get("options") is not None and not isinstance(row["options"], list):
                row["options"] = list(row["options"])
        return rows, parquets[0]
    raise FileNotFoundError(f"{root}: no test.jsonl and no *.parquet in it (the VSI-Bench question table)")


def _default_vsibench_video_root() -> Path:
    hf_home = os.path.expanduser(os.environ.get("HF_HOME", "~/.cache/huggingface/"))
    return Path(hf_home) / "vsibench"


def load_vsibench_docs(vsibench_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Read the VSI-Bench questions from a local copy, or from the hub when no folder is given or set.

    Args:
        vsibench_dir: Folder with ``test.jsonl`` / parquet and ``<dataset>/<scene_name>.mp4``; default
            ``$VSIBENCH_DIR``; when that is unset too, the hub dataset ``nyu-visionx/VSI-Bench`` with videos
            in ``$HF_HOME/vsibench`` (where the built-in ``vsibench`` task puts them).

    Returns:
        Documents (see :func:`~spatial_r1_eval.records.record_to_document`) in table order.
    """
    if vsibench_dir is None and os.environ.get(VSIBENCH_DIR_ENV, "").strip():
        vsibench_dir = _env_dir(VSIBENCH_DIR_ENV, "a VSI-Bench folder with test.jsonl and <dataset>/<scene>.mp4")
    if vsibench_dir is not None:
        root = Path(vsibench_dir)
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such folder (VSI-Bench copy)")
        rows, source = _read_vsibench_table(root)
        video_root = root
    else:
        import datasets

        rows = list(datasets.load_dataset(VSIBENCH_HUB_ID, "full", split="test"))
        source, video_root = Path(VSIBENCH_HUB_ID), _default_vsibench_video_root()
    docs = []
    for i, row in enumerate(rows, 1):
        where = f"{source}:{i}"
        for name in ("dataset", "scene_name"):
            if not row.get(name):
                raise ValueError(f"{where}: record has no {name!r} field")
        video = resolve_inside(video_root, f"{row['dataset']}/{row['scene_name']}.mp4")
        docs.append(record_to_document(row, video, where))
    if not docs:
        raise ValueError(f"{source}: no questions in it")
    return docs


def check_videos(docs: Sequence[Mapping[str, Any]]) -> None:
    """Fail up front when a question's video is missing (before any model runs).

    Raises:
        FileNotFoundError: naming the first missing path, the question and how many are missing.
    """
    missing = [d for d in docs if not os.path.isfile(d["video_path"])]
    if missing:
        first = missing[0]
        raise FileNotFoundError(
            f"video not found: {first['video_path']} (question {first['id']}; {len(missing)} of {len(docs)} "
            "questions lack their video; use the task's _blind variant to evaluate without video)"
        )


def _as_dataset(docs: list[dict[str, Any]]):
    import datasets

    features = datasets.Features(
        {
            name: datasets.Sequence(datasets.Value("string")) if name == "options" else datasets.Value("string")
            for name in DOC_FIELDS
        }
    )
    return datasets.Dataset.from_list(docs, features=features)


def sr_process_docs(dataset: Any = None):
    """``process_docs`` of the SR tasks: the questions of ``$SPATIAL_R1_SR_DIR``; every video must exist."""
    docs = load_sr_docs()
    check_videos(docs)
    return _as_dataset(docs)


def sr_process_docs_blind(dataset: Any = None):
    """``process_docs`` of the blind SR tasks: the questions of ``$SPATIAL_R1_SR_DIR`` (videos not needed)."""
    return _as_dataset(load_sr_docs())


def vsibench_process_docs(dataset: Any = None):
    """``process_docs`` of the VSI-Bench tasks (local ``$VSIBENCH_DIR`` or the hub); every video must exist."""
    docs = load_vsibench_docs()
    check_videos(docs)
    return _as_dataset(docs)


def vsibench_process_docs_blind(dataset: Any = None):
    """``process_docs`` of the blind VSI-Bench tasks (videos not needed)."""
    return _as_dataset(load_vsibench_docs())


# ---------------------------------------------------------------------------------------------------------------
# prompts and visuals
# ---------------------------------------------------------------------------------------------------------------


def doc_to_visual(doc: Mapping[str, Any]) -> list[str]:
    """The question's video path (checked).

    Raises:
        FileNotFoundError: naming the missing video path and the question id.
    """
    path = doc["video_path"]
    if not os.path.isfile(path):
        raise FileNotFoundError(f"video not found: {path} (question {doc['id']})")
    return [path]


def doc_to_visual_blind(doc: Mapping[str, Any]) -> list[str]:
    """Blind mode: no visual input.

    >>> doc_to_visual_blind({"video_path": "/nowhere.mp4"})
    []
    """
    return []


def direct_doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """VSI-Bench's direct-answer prompt (pre-prompt, question, options, post-prompt)."""
    from spatial_r1_eval import prompts

    kwargs = dict(lmms_eval_specific_kwargs or {})
    return prompts.build_direct_prompt(
        doc,
        pre_prompt=kwargs.get("pre_prompt", ""),
        mca_post_prompt=kwargs.get("mca_post_prompt", ""),
        na_post_prompt=kwargs.get("na_post_prompt", ""),
    )


def r1_doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """The Spatial-R1 / Video-R1 reasoning prompt (``<think>…</think><answer>…</answer>``)."""
    from spatial_r1_eval import prompts

    return prompts.build_reasoning_prompt(doc)


VIDEO_FRAMES_KWARG = "video_frames"
"""``lmms_eval_specific_kwargs`` key: decode this many frames in the task and send them as the video (see below)."""


def sample_video_frames(path: str | os.PathLike[str], frames: int) -> list[Any]:
    """``frames`` frames spaced uniformly over the whole clip (first and last included), as RGB PIL images.

    The task decodes the frames itself (with decord, at the video's own size) for the lmms-eval backends whose
    transformers processors decode video paths only with torchcodec, which needs the system FFmpeg libraries
    (``llava_hf``, ``internvl_hf``); their task YAML entries set ``video_frames`` and the processor resizes.

    Raises:
        ValueError: ``frames`` < 1, or the video has fewer frames (naming the file).
    """
    import decord
    import numpy as np
    from PIL import Image

    if frames < 1:
        raise ValueError(f"{VIDEO_FRAMES_KWARG} must be >= 1, got {frames}")
    reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
    total = len(reader)
    if total < frames:
        raise ValueError(f"{path}: has {total} frames, fewer than {VIDEO_FRAMES_KWARG}={frames}")
    indices = np.linspace(0, total - 1, frames).round().astype(int).tolist()
    return [Image.fromarray(frame) for frame in reader.get_batch(indices).asnumpy()]


def _messages(
    doc: Mapping[str, Any],
    to_text: Callable[..., str],
    to_visual: Callable[[Mapping[str, Any]], list[str]],
    lmms_eval_specific_kwargs: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    frames = (lmms_eval_specific_kwargs or {}).get(VIDEO_FRAMES_KWARG)
    content: list[dict[str, Any]] = [
        {"type": "video", "url": path if frames is None else sample_video_frames(path, int(frames))}
        for path in to_visual(doc)
    ]
    content.append({"type": "text", "text": to_text(doc, lmms_eval_specific_kwargs)})
    return [{"role": "user", "content": content}]


def direct_doc_to_messages(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None):
    """Chat messages (video + direct prompt) for lmms-eval chat models."""
    return _messages(doc, direct_doc_to_text, doc_to_visual, lmms_eval_specific_kwargs)


def direct_doc_to_messages_blind(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None):
    """Chat messages (direct prompt only) for blind tasks."""
    return _messages(doc, direct_doc_to_text, doc_to_visual_blind, lmms_eval_specific_kwargs)


def r1_doc_to_messages(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None):
    """Chat messages (video + reasoning prompt) for lmms-eval chat models."""
    return _messages(doc, r1_doc_to_text, doc_to_visual, lmms_eval_specific_kwargs)


def r1_doc_to_messages_blind(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None):
    """Chat messages (reasoning prompt only) for blind tasks."""
    return _messages(doc, r1_doc_to_text, doc_to_visual_blind, lmms_eval_specific_kwargs)


# ---------------------------------------------------------------------------------------------------------------
# scoring and aggregation
# ---------------------------------------------------------------------------------------------------------------


def _sample(doc: Mapping[str, Any], prediction: Any) -> dict[str, Any]:
    from spatial_r1_eval.scoring import score

    text = "" if prediction is None else str(prediction)
    return {
        "id": str(doc["id"]),
        "question_type": doc["question_type"],
        "ground_truth": doc["ground_truth"],
        "options": [str(o) for o in (doc.get("options") or [])],  # logged for the error analysis (option texts)
        "prediction": text,
        "score": float(score(text, doc)),
    }


def process_results(doc: Mapping[str, Any], results: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Score one completion; every metric gets the same per-question dict (id, type, prediction, score).

    >>> r = process_results({"id": "1", "question_type": "object_counting", "ground_truth": "4"}, ["4"])
    >>> sorted(r) == sorted(METRIC_NAMES.values()), r["vsibench_overall"]["score"]
    (True, 1.0)
    """
    sample = _sample(doc, results[0] if results else "")
    return {metric: sample for metric in METRIC_NAMES.values()}


def r1_process_results(doc: Mapping[str, Any], results: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Like :func:`process_results`, plus the completion's format reward (``format_reward`` metric).

    >>> r = r1_process_results({"id": "1", "question_type": "object_counting", "ground_truth": "4"},
    ...                        ["<think>two and two</think><answer>4</answer>"])
    >>> r["format_reward"]["format"], r["vsibench_overall"]["score"]
    (1.0, 1.0)
    """
    from spatial_r1_eval.metrics import format_reward

    sample = _sample(doc, results[0] if results else "")
    sample["format"] = float(format_reward(sample["prediction"]))
    out = {metric: sample for metric in METRIC_NAMES.values()}
    out[FORMAT_METRIC] = sample
    return out


def aggregate_samples(samples: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """Table task (and ``overall``) -> score in [0, 1] over any subset of the logged samples; absent tasks -> ``None``.

    The scores of :func:`spatial_r1_eval.aggregation.table_scores`, rounded to 6 digits like the built-in ``vsibench``.

    >>> s = [{"question_type": "object_counting", "score": 1.0}, {"question_type": "object_counting", "score": 0.5}]
    >>> aggregate_samples(s)["object_counting"], aggregate_samples(s)["route_planning"]
    (0.75, None)
    """
    from spatial_r1_eval.aggregation import table_scores

    return table_scores([s["question_type"] for s in samples], [float(s["score"]) for s in samples], digits=6)


def aggregate_overall(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Overall: unweighted mean of the table tasks present."""
    return aggregate_samples(results)["overall"]


def aggregate_obj_appearance_order(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Appearance-order accuracy (``None`` when the subset has none)."""
    return aggregate_samples(results)["obj_appearance_order"]


def aggregate_object_abs_distance(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Absolute-distance NAR (MRA)."""
    return aggregate_samples(results)["object_abs_distance"]


def aggregate_object_counting(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Counting NAR (MRA)."""
    return aggregate_samples(results)["object_counting"]


def aggregate_object_rel_distance(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Relative-distance accuracy."""
    return aggregate_samples(results)["object_rel_distance"]


def aggregate_object_size_estimation(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Object-size NAR (MRA)."""
    return aggregate_samples(results)["object_size_estimation"]


def aggregate_room_size_estimation(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Room-size NAR (MRA)."""
    return aggregate_samples(results)["room_size_estimation"]


def aggregate_route_planning(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Route-planning accuracy."""
    return aggregate_samples(results)["route_planning"]


def aggregate_object_rel_direction(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Relative-direction accuracy: unweighted mean of the easy/medium/hard levels present."""
    return aggregate_samples(results)["object_rel_direction"]


def aggregate_format(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Share of completions in the reasoning format (``None`` for an empty subset).

    >>> aggregate_format([{"format": 1.0}, {"format": 0.0}])
    0.5
    """
    if not results:
        return None
    return round(sum(float(r["format"]) for r in results) / len(results), 6)
