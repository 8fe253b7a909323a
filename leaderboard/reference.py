"""Published reference rows shipped as package data (the Spatial-R1 paper's Table 1, scores 0-100)."""

from __future__ import annotations

import csv
import io
import math
from importlib import resources

from spatial_r1_eval.leaderboard.runs import COLUMNS

#: Reference name (``--reference``) -> CSV file in ``leaderboard/data``.
REFERENCES: dict[str, str] = {"spatial-r1-table1": "spatial_r1_table1.csv"}


def load_reference(name: str) -> list[tuple[str, dict[str, float | None]]]:
    """The rows of a shipped reference table: ``(model, {column: score 0-100 or None})`` in file order.

    Empty cells and ``-`` are missing values (``None``).

    Raises:
        ValueError: unknown reference name, or a malformed cell (naming file, row and column).

    Example:
        >>> rows = load_reference("spatial-r1-table1")
        >>> rows[-1][0], rows[-1][1]["object_counting"], rows[-1][1]["overall"]
        ('Spatial-R1', 62.9, 41.8)
        >>> rows[0][1]["object_abs_distance"] is None  # Chance Level (Random) has no numerical columns
        True
    """
    if name not in REFERENCES:
        raise ValueError(f"unknown reference {name!r}; choose one of: {', '.join(sorted(REFERENCES))}")
    filename = REFERENCES[name]
    text = resources.files("spatial_r1_eval.leaderboard").joinpath("data", filename).read_text(encoding="utf-8")
    return parse_reference_csv(text, source=filename)


def parse_reference_csv(text: str, *, source: str = "<csv>") -> list[tuple[str, dict[str, float | None]]]:
    """Parse a reference CSV with a ``model`` column and the table columns (see :data:`runs.COLUMNS`).

    Example:
        >>> parse_reference_csv("model,overall\\nA,40.5\\nB,-\\n")[1]  # doctest: +ELLIPSIS
        ('B', {'obj_appearance_order': None, ..., 'overall': None})
    """
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "model" not in reader.fieldnames:
        raise ValueError(f"{source}: reference CSV needs a 'model' column, got {reader.fieldnames}")
    unknown = [c for c in reader.fieldnames if c != "model" and c not in COLUMNS]
    if unknown:
        raise ValueError(f"{source}: unknown column(s) {unknown}; expected {list(COLUMNS)}")
    rows = []
    for i, raw in enumerate(reader, 2):
        values: dict[str, float | None] = {}
        for column in COLUMNS:
            cell = (raw.get(column) or "").strip()
            if cell in ("", "-", "—"):
                values[column] = None
                continue
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(f"{source}: line {i}, column {column}: {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise ValueError(f"{source}: line {i}, column {column}: {cell!r} is not finite")
            values[column] = value
        rows.append((raw["model"].strip(), values))
    return rows
