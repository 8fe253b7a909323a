"""The table: shipped reference rows, consistency check, best marks, Δ, missing cells, formats, reader errors."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.commands.cli import main
from spatial_r1_eval.leaderboard.reference import load_reference, parse_reference_csv
from spatial_r1_eval.leaderboard.runs import COLUMNS, find_results_files, read_results_file
from spatial_r1_eval.leaderboard.table import TASK_COLUMNS, Leaderboard, Row, build_leaderboard

SHARED_TABLE1 = (
    Path(os.environ.get("SPATIAL_R1_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")).parent
    / "reference"
    / "spatial_r1_table1.csv"
)


@pytest.fixture(scope="module")
def table1() -> Leaderboard:
    return build_leaderboard(reference=load_reference("spatial-r1-table1"))


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9.()-]", "", text.lower().replace("†", "").replace("*", ""))


def test_rendered_table_reads_like_the_papers_table1(table1: Leaderboard, paper_text: str) -> None:
    """The Markdown table, header and cells in order, against Table 1 as printed in the paper's text."""
    lines = paper_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Model / "))
    paper = [line.split("\t") for line in lines[start : lines.index("", start)]]  # header and rows, to the blank line
    rendered = [[c.strip() for c in line.strip("|").split("|")] for line in table1.to_markdown().splitlines()]
    header, body = rendered[0], rendered[2:]
    # header: the paper's column wording (the PDF text splits "Appear ance"; "Overall Acc (Avg.)" is "Overall")
    assert [re.sub(r"[^a-z]", "", h.lower()) for h in header[1:]] == [
        re.sub(r"[^a-z]", "", c.lower()).removesuffix("accavg") for c in paper[0][1:]
    ]
    assert len(body) == len(paper) - 1
    for ours, theirs in zip(body, paper[1:], strict=True):
        assert _words(ours[0]) == _words(theirs[0]).removesuffix("(ours)"), (ours[0], theirs[0])
        want = [None if c.strip() in ("-", "_", "") else float(c) for c in theirs[1:]]
        got = [None if c == "-" else float(c.strip("*")) for c in ours[1:]]
        assert got == want, ours[0]


def test_shipped_reference_equals_shared_copy() -> None:
    if not SHARED_TABLE1.is_file():
        pytest.skip(f"shared reference absent: {SHARED_TABLE1}")
    raw = list(csv.DictReader(SHARED_TABLE1.open(encoding="utf-8")))
    rows = load_reference("spatial-r1-table1")
    assert [r["model"] for r in raw] == [name for name, _ in rows]
    for r, (_, values) in zip(raw, rows, strict=True):
        for c in COLUMNS:
            assert values[c] == (float(r[c]) if r[c] else None)


def test_consistency_check_flags_exactly_the_inconsistent_paper_rows(table1: Leaderboard) -> None:
    issues = {i.name: i for i in table1.consistency_issues()}
    assert set(issues) == {"Chance Level (Frequency)", "LongVILA-8B", "Spatial-R1"}
    # independent computation of the mean of the eight published task columns
    for name, values in load_reference("spatial-r1-table1"):
        if name in issues:
            assert issues[name].computed == pytest.approx(np.mean([values[c] for c in TASK_COLUMNS]))
            assert issues[name].published == values["overall"]
    assert str(issues["Spatial-R1"]) == "Spatial-R1: Overall 41.8 is not the mean of its 8 task columns (40.20)"


def test_best_per_column_and_delta(table1: Leaderboard) -> None:
    rows = load_reference("spatial-r1-table1")
    for c in COLUMNS:
        present = [(v[c], n) for n, v in rows if v[c] is not None]
        top = max(p[0] for p in present)
        assert table1.best(c) == {n for v, n in present if v == top}
    assert table1.best("object_counting") == {"Spatial-R1"}
    board = build_leaderboard(reference=rows, baseline="Qwen2.5-VL-7B (zero-shot)")
    assert board.delta(board.row("Spatial-R1"), "overall") == pytest.approx(41.8 - 34.4)
    assert board.cell_text(board.row("Spatial-R1"), "object_counting") == "62.9 (+28.9)"
    assert board.cell_text(board.row("Chance Level (Random)"), "object_counting") == "-"  # missing stays missing
    md = board.to_markdown()
    assert "| Qwen2.5-VL-7B (zero-shot) [baseline]" in md and "**62.9 (+28.9)**" in md


def test_missing_cells_render_in_every_format(table1: Leaderboard) -> None:
    random_row = next(line for line in table1.to_markdown().splitlines() if "Chance Level (Random)" in line)
    assert [c.strip() for c in random_row.split("|")[2:-1]] == [
        "25.0",
        "-",
        "-",
        "25.0",
        "-",
        "-",
        "28.3",
        "36.1",
        "-",
    ]
    parsed = list(csv.DictReader(io.StringIO(table1.to_csv())))
    assert parsed[0]["model"] == "Chance Level (Random)" and parsed[0]["object_counting"] == ""
    assert parsed[-1]["overall"] == "41.8" and parsed[-1]["kind"] == "reference"
    latex = table1.to_latex()
    assert latex.count("\\\\") == len(table1.rows) + 1
    assert "$^\\dagger$Gemini-1.5 Pro & \\textbf{68.0}" in latex
    assert "Chance Level (Random) & 25.0 & - & -" in latex


def test_csv_values_roundtrip_to_reference(table1: Leaderboard) -> None:
    parsed = parse_reference_csv(table1.to_csv().replace(",reference", "").replace(",kind", ""))
    assert parsed == load_reference("spatial-r1-table1")


def test_reference_parse_errors() -> None:
    with pytest.raises(ValueError, match=r"x.csv: line 2, column overall: 'abc' is not a number"):
        parse_reference_csv("model,overall\nA,abc\n", source="x.csv")
    with pytest.raises(ValueError, match="unknown column"):
        parse_reference_csv("model,speed\nA,1\n")
    with pytest.raises(ValueError, match="unknown reference"):
        load_reference("table2")


def test_duplicate_row_and_unknown_baseline() -> None:
    with pytest.raises(ValueError, match="duplicate row"):
        Leaderboard([Row("a", {}), Row("a", {})])
    with pytest.raises(ValueError, match="'z' is not a row"):
        Leaderboard([Row("a", {})], baseline="z")


def _results(tmp: Path, results: object, name: str = "2026-01-01T00-00-00.000_results.json") -> Path:
    p = tmp / name
    p.write_text(json.dumps(results))
    return p


def test_reader_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such run folder"):
        find_results_files(tmp_path / "absent")
    with pytest.raises(ValueError, match="not an lmms-eval output folder"):
        find_results_files(tmp_path)
    p = _results(tmp_path, {"foo": 1})
    with pytest.raises(ValueError, match=f"{p}: not an lmms-eval results file"):
        read_results_file(p)
    p.write_text("{broken")
    with pytest.raises(ValueError, match="malformed JSON"):
        read_results_file(p)
    p = _results(tmp_path, {"results": {"mme": {"mme_cognition_score,none": 3.0}}})
    with pytest.raises(ValueError, match=r"no VSI-Bench-style task .*tasks found: mme"):
        read_results_file(p)


def test_builtin_zero_for_absent_task_is_shown_missing(tmp_path: Path) -> None:
    """The built-in vsibench reports 0.0 for a task without questions; with samples we show '-' instead."""
    results = {"results": {"vsibench": {f"{m},none": 0.0 for m in ("object_counting_mra", "route_planning_accuracy")}}}
    results["results"]["vsibench"]["route_planning_accuracy,none"] = 0.5
    results["results"]["vsibench"]["vsibench_overall,none"] = 0.5
    p = _results(tmp_path, results)
    sample = {"doc_id": 0, "vsibench_overall": {"id": "q0", "question_type": "route_planning", "accuracy": 0.5}}
    (tmp_path / p.name.replace("_results.json", "_samples_vsibench.jsonl")).write_text(json.dumps(sample) + "\n")
    (run,) = read_results_file(p)
    assert run.scores["object_counting"] is None and run.scores["route_planning"] == 0.5
    assert run.notes and "object_counting" in run.notes[0]


def test_cli_prints_table1_and_notes(capsys) -> None:
    assert main(["leaderboard", "--reference", "spatial-r1-table1", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert "\\begin{tabular}" in out and "% consistency: Spatial-R1: Overall 41.8" in out
    assert main(["leaderboard"]) == 2
    assert "give at least one RUN_DIR" in capsys.readouterr().err
