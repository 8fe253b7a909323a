"""Exports of the SR dataset: ``sr.jsonl`` (VSI-Bench-compatible), ``sr_train.jsonl`` (Spatial-R1 / Video-R1
training schema with the reasoning prompt) and ``sr.parquet`` (``datasets.load_dataset("parquet", ...)``); the
schemas are :mod:`spatial_r1_eval.records` (``docs/records.md``).

All writes are atomic and deterministic (same records -> same bytes).
"""

from __future__ import annotations

import json
import os
from typing import Any

from spatial_r1_eval.files import atomic_open, write_jsonl
from spatial_r1_eval.records import SR_RECORD_FIELDS, record_to_training_row, validate_sr_record

#: The scalar and list columns of ``sr.parquet``: the SR record's fields but ``meta`` (JSON text, written after them).
PARQUET_COLUMNS: tuple[str, ...] = tuple(f for f in SR_RECORD_FIELDS if f != "meta")


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
    """Write ``sr.jsonl``, ``sr_train.jsonl`` and ``sr.parquet`` into ``out_dir``; returns row counts.

    Every record is checked against the SR record schema first (:func:`~spatial_r1_eval.records.validate_sr_record`),
    so that a record that breaks it stops the export before any file is written.
    """
    for i, record in enumerate(records):
        validate_sr_record(record, f"sr.jsonl record {i + 1}")
    out = os.fspath(out_dir)
    n = write_jsonl(os.path.join(out, "sr.jsonl"), records)
    write_jsonl(os.path.join(out, "sr_train.jsonl"), (record_to_training_row(r, i) for i, r in enumerate(records)))
    write_parquet(os.path.join(out, "sr.parquet"), records)
    return {"sr.jsonl": n, "sr_train.jsonl": n, "sr.parquet": n}
