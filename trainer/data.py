"""Training data: ``sr_train.jsonl`` (the generator's Spatial-R1 / Video-R1 export) as conversational GRPO rows.

Each line of ``sr_train.jsonl`` has ``problem_id, problem, data_type: "video", problem_type, options,
solution: "<answer>X</answer>", path, data_source, question_type`` (:class:`spatial_r1_eval.records.TrainingRow`,
``docs/records.md``); ``path`` is relative to the folder of the JSONL file and may not leave it. Each row becomes::

    {"prompt": [{"role": "user", "content": <reasoning prompt>}],   # spatial_r1_eval.prompts
     "video": "/abs/path/videos/scannet/<scene>.mp4",
     "question_type": ..., "ground_truth": ..., "options": [...], "solution": ..., "problem_id": ..., ...}

The video itself is attached by :class:`~spatial_r1_eval.trainer.video_grpo.VideoGRPOTrainer`; the other columns
reach the reward functions as keyword arguments (TRL passes every dataset column through).

``dataset_path: synthetic`` in a recipe means "generate a small SR dataset from synthetic ScanNet-layout scenes into
``<output_dir>/sr_data``" with the project's own generator (:func:`prepare_synthetic_sr`), so the smoke recipe runs
offline from a fresh clone.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from spatial_r1_eval.files import read_jsonl, resolve_inside
from spatial_r1_eval.records import TRAINING_ROW_REQUIRED, training_row_ground_truth, validate_training_row

logger = logging.getLogger(__name__)

#: Fields every training row must have (non-empty): :data:`spatial_r1_eval.records.TRAINING_ROW_REQUIRED`.
REQUIRED_FIELDS = TRAINING_ROW_REQUIRED
#: Columns kept from the JSONL next to the ones built here (present ones only).
PASSTHROUGH_FIELDS = ("problem_id", "problem", "problem_type", "data_source", "data_type", "solution")


def training_row(row: dict[str, Any], data_root: str | os.PathLike[str], *, where: str = "row") -> dict[str, Any]:
    """Turn one ``sr_train.jsonl`` record into a conversational GRPO row (see the module docstring).

    Args:
        row: The JSONL record.
        data_root: Folder the record's ``path`` is relative to (the JSONL's folder).
        where: Location used in error messages (``file:line``).

    Raises:
        ValueError: A required field is missing, ``data_type`` is not video
            (:func:`~spatial_r1_eval.records.validate_training_row`), or ``path`` escapes ``data_root``.
        FileNotFoundError: The video file does not exist.
    """
    from spatial_r1_eval.prompts import build_reasoning_prompt

    validate_training_row(row, where)
    options = row.get("options") or []
    try:
        video = resolve_inside(data_root, str(row["path"]))
    except ValueError as e:
        raise ValueError(f"{where}: field 'path': {e}") from None
    if not video.is_file():
        raise FileNotFoundError(f"{where}: video {video} not found (field 'path' = {row['path']!r})")
    record = {
        "question": row["problem"],
        "problem": row["problem"],
        "options": options,
        "question_type": row["question_type"],
        "problem_type": row["problem_type"],
    }
    out: dict[str, Any] = {
        "prompt": [{"role": "user", "content": build_reasoning_prompt(record)}],
        "video": str(video),
        "question_type": str(row["question_type"]),
        "ground_truth": training_row_ground_truth(row),
        "options": [str(o) for o in options],
    }
    for field in PASSTHROUGH_FIELDS:
        if field in row and field not in out:
            out[field] = row[field] if isinstance(row[field], str) else str(row[field])
    return out


def round_robin_by_type(rows: list[tuple[int, dict]], n: int) -> list[tuple[int, dict]]:
    """The first ``n`` of ``rows`` (``(line, record)`` pairs) taken in turn from each question type, in file order.

    Example:
        >>> rows = [(i, {"question_type": t}) for i, t in enumerate("aaabbc", 1)]
        >>> [line for line, _ in round_robin_by_type(rows, 4)]
        [1, 2, 4, 6]
    """
    queues: dict[str, list[tuple[int, dict]]] = {}
    for row in rows:
        queues.setdefault(str(row[1].get("question_type")), []).append(row)
    picked: list[tuple[int, dict]] = []
    depth = 0
    while len(picked) < n and any(depth < len(q) for q in queues.values()):
        picked += [q[depth] for q in queues.values() if depth < len(q)]
        depth += 1
    return sorted(picked[:n], key=lambda row: row[0])


def load_sr_train(
    path: str | os.PathLike[str],
    *,
    question_types: list[str] | None = None,
    max_samples: int | None = None,
):
    """Load ``sr_train.jsonl`` as a ``datasets.Dataset`` of conversational GRPO rows.

    Args:
        path: The JSONL file (videos are resolved relative to its folder).
        question_types: Keep only these question types (``None`` = all).
        max_samples: Keep N rows after filtering (``None`` = all), taken round-robin over the question types in
            file order (see :func:`round_robin_by_type`), so that a small run still sees every task.

    Raises:
        FileNotFoundError: The file or one of its videos is missing.
        ValueError: A malformed row (file and line named), or no rows left after filtering.
    """
    import datasets

    path = Path(path)
    kept = [
        (lineno, record)
        for lineno, record in enumerate(read_jsonl(path), 1)
        if question_types is None or record.get("question_type") in question_types
    ]
    if max_samples is not None:
        kept = round_robin_by_type(kept, max_samples)
    rows = [training_row(record, path.parent, where=f"{path}:{lineno}") for lineno, record in kept]
    if not rows:
        raise ValueError(f"{path}: no training rows (question_types={question_types}, max_samples={max_samples})")
    logger.info("loaded %d training rows from %s", len(rows), path)
    return datasets.Dataset.from_list(rows)


def prepare_synthetic_sr(out_dir: str | os.PathLike[str], *, n_scenes: int = 2, seed: int = 0) -> Path:
    """Generate a small SR dataset from synthetic ScanNet-layout scenes; returns its ``sr_train.jsonl``.

    Runs the project's generator (``spatial_r1_eval.generation``) on ``n_scenes`` synthetic scenes written to
    ``out_dir/scannet``; the SR export lands in ``out_dir/sr``. Re-running reuses finished output.

    Args:
        out_dir: Working folder.
        n_scenes: Synthetic scenes to generate.
        seed: Seed of scenes and questions.
    """
    try:
        from spatial_r1_eval.generation.pipeline import generate
        from spatial_r1_eval.generation.synth import write_synthetic_scenes
    except ImportError as e:
        raise ValueError(
            f"dataset_path 'synthetic' needs the SR generator (spatial_r1_eval.generation), which is unavailable "
            f"({e}); pass --dataset_path path/to/sr_train.jsonl"
        ) from None

    out_dir = Path(out_dir)
    sr_dir = out_dir / "sr"
    train = sr_dir / "sr_train.jsonl"
    if train.is_file():
        return train
    scannet = out_dir / "scannet"
    if not (scannet / "scans").is_dir():
        write_synthetic_scenes(scannet, n_scenes, seed)
    generate(scannet, sr_dir, seed=seed, videos=True)
    if not train.is_file():
        raise FileNotFoundError(f"{train}: the SR generator wrote no training export")
    return train


#: The questions of :func:`write_sample_sr_train`: ``(question_type, problem, options, answer)``, two numerical and
#: two multiple-choice types, so that per-task reward logging and both accuracy routes are exercised.
SAMPLE_QUESTIONS: tuple[tuple[str, str, list[str], str], ...] = (
    ("object_counting", "How many chair(s) are in this room?", [], "3"),
    ("object_rel_direction_easy", "If I am standing by the bed and facing the tv, is the sofa to my left or right?",
     ["A. left", "B. right"], "B"),
    ("room_size_estimation", "What is the size of this room (in square meters)?", [], "21.5"),
    ("route_planning", "You are a robot beginning at the bed facing the tv. Then?",
     ["A. Turn Left", "B. Turn Right", "C. Turn Back"], "A"),
)  # fmt: skip


def write_sample_sr_train(root: str | os.PathLike[str], n_videos: int = 2) -> Path:
    """A tiny ``sr_train.jsonl`` in the training schema with real H.264 mp4s of moving noise (tests, benchmarks).

    Independent of the SR generator's settings (see :func:`prepare_synthetic_sr` for data made by the generator):
    ``n_videos`` scenes ``scene900<k>_00`` of 24 frames (112x84, 24 fps, seeded by ``k``), each asked the
    :data:`SAMPLE_QUESTIONS`.

    Args:
        root: Output folder (``sr_train.jsonl`` and ``videos/scannet/<scene>.mp4``).
        n_videos: Number of scenes / videos.

    Returns:
        The path of ``sr_train.jsonl``.

    Example:
        >>> import tempfile
        >>> path = write_sample_sr_train(tempfile.mkdtemp(), n_videos=1)
        >>> len(load_sr_train(path)), (path.parent / "videos/scannet/scene9000_00.mp4").is_file()
        (4, True)
    """
    import numpy as np

    from spatial_r1_eval.files import write_jsonl
    from spatial_r1_eval.generation.video import write_mp4
    from spatial_r1_eval.questions import problem_type

    root = Path(root)
    rows = []
    for k in range(n_videos):
        scene = f"scene900{k}_00"
        base = np.random.default_rng(k).integers(0, 255, (84, 112, 3), dtype=np.uint8)
        video = root / "videos" / "scannet" / f"{scene}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        write_mp4((np.roll(base, 3 * i, axis=1) for i in range(24)), video, fps=24)
        for j, (qt, problem, options, answer) in enumerate(SAMPLE_QUESTIONS):
            rows.append({
                "problem_id": f"{scene}-{j}", "problem": problem, "data_type": "video",
                "problem_type": problem_type(qt), "options": options,
                "solution": f"<answer>{answer}</answer>", "path": f"videos/scannet/{scene}.mp4",
                "data_source": "SR", "question_type": qt,
            })  # fmt: skip
    out = root / "sr_train.jsonl"
    write_jsonl(out, rows)
    return out
