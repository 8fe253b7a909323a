"""Exports of the SR dataset: ``sr.jsonl`` (VSI-Bench-compatible), ``sr_train.jsonl`` (Spatial-R1 / Video-R1
training schema with the reasoning prompt) and ``sr.parquet`` (``datasets.load_dataset("parquet", ...)``).

All writes are atomic and deterministic (same records -> same bytes).
"""

from __future__ import annotations

import json
import os
from typing import Any

from spatial_r1_eval.files import atomic_open, write_jsonl
from spatial_r1_eval.questions import problem_type

PARQUET_COLUMNS = ("id", "dataset", "scene_name", "question_type", "question", "options", "ground_truth", "video")


def train_record(record: dict[str, Any], problem_id: int) -> dict[str, Any]:
    """The Spatial-R1 / Video-R1 training row of an SR record (``path`` relative to the output folder).

    Example:
        >>> rec = {"id": "x", "scene_name": "s", "question_type": "object_counting", "options": [],
        ...        "question": "How many chair(s) are in this room?", "ground_truth": "3", "video": "scannet/s.mp4"}
        >>> row = train_record(rec, 7)
        >>> row["problem_id"], row["problem_type"], row["solution"], row["path"]
        (7, 'numerical', '<answer>3</answer>', 'videos/scannet/s.mp4')
    """
    from spatial_r1_eval.prompts import build_reasoning_prompt

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


def write_parquet(path: str | os.PathLike[str], records: list[dict[str, Any]]) -> None:
    """Write the records as Parquet (``meta`` as a JSON string column), atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[Any]] = {c: [r[c] for r in records] for c in PARQUET_COLUMNS}
    columns["options"] = [list(r.get("options") or []) for r in records]
    columns["meta"] = [json.dumps(r.get("meta", {}), sort_keys=True) for r in records]
    schema = pa.schema(
        [(c, pa.list_(pa.string()) if c == "options" else pa.string()) for c in (*PARQUET_COLUMNS, "meta")]
    )
    table = pa.table(columns, schema=schema)
    with atomic_open(path, "wb") as f:
        pq.write_table(table, f, compression="zstd")


def export_all(out_dir: str | os.PathLike[str], records: list[dict[str, Any]]) -> dict[str, int]:
    """Write ``sr.jsonl``, ``sr_train.jsonl`` and ``sr.parquet`` into ``out_dir``; returns row counts."""
    out = os.fspath(out_dir)
    n = write_jsonl(os.path.join(out, "sr.jsonl"), records)
    write_jsonl(os.path.join(out, "sr_train.jsonl"), (train_record(r, i) for i, r in enumerate(records)))
    write_parquet(os.path.join(out, "sr.parquet"), records)
    return {"sr.jsonl": n, "sr_train.jsonl": n, "sr.parquet": n}
