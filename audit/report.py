"""The audit of one file: every check run in order, one JSON-ready report, and its terminal summary.

>>> import json, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
>>> _ = p.write_text(json.dumps({"scene_name": "scene0025_01", "question_type": "object_counting",
...     "question": "How many chair(s) are in this room?", "options": None, "ground_truth": "3"}) + "\\n")
>>> rep = audit_file(p)
>>> rep["format"], rep["rows"], rep["leakage"]["vsibench"]["rows"], rep["summary"]["clean"]
('vsibench', 1, 1, False)
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from spatial_r1_eval.audit.bias import check_bias
from spatial_r1_eval.audit.leakage import check_leakage
from spatial_r1_eval.audit.readers import FORMAT_HELP, read_rows
from spatial_r1_eval.audit.sanity import CHECKS, check_sanity

#: The report's schema version (bump when a field changes meaning).
REPORT_VERSION = 1


def audit_file(
    path: str | os.PathLike[str],
    *,
    scannet: str | os.PathLike[str] | None = None,
    variant: str = "paper",
    tolerance: float = 0.05,
    folds: int = 5,
    seed: int = 0,
    margin: float = 0.05,
    min_rows: int = 50,
    max_rows: int | None = 2_000,
    bias: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Audit one question file (see :mod:`spatial_r1_eval.audit`); returns the report.

    Args:
        path: A ``.jsonl`` / ``.json`` / ``.parquet`` file of VSI-Bench/SR rows or Video-R1-style training rows.
        scannet: A ScanNet root: re-derive answers (and check uniqueness) for the scenes found there.
        variant: Generator variant of the re-derivation (``paper`` or ``vsibench``).
        tolerance: Relative tolerance of numerical agreement (counting is exact).
        folds: k of the text-only model's cross-validation.
        seed: Seed of the folds and row samples.
        margin: Gain of the text-only score over chance (0-1) that flags a type.
        min_rows: Fewest rows of a type for the text-only model.
        max_rows: Rows per type the text-only model is cross-validated on (seeded sample).
        bias: Run the bias checks.
        progress: Show progress bars.
    """
    fmt, rows = read_rows(path, progress=progress)
    report: dict[str, Any] = {"version": REPORT_VERSION, "file": os.fspath(path), "format": fmt, "rows": len(rows)}
    report["format_help"] = FORMAT_HELP[fmt]
    types = Counter(r.question_type or "unknown" for r in rows)
    report["question_types"] = dict(sorted(types.items()))
    report["types_inferred"] = sum(r.type_inferred for r in rows)
    report["open_ended"] = sum(r.open_ended for r in rows)
    report["leakage"] = check_leakage(rows)
    scene_counts = None
    if scannet is not None:
        from spatial_r1_eval.audit.verify import verify

        report["verification"], scene_counts = verify(
            rows, os.fspath(scannet), variant=variant, tolerance=tolerance, progress=progress
        )
    sanity = check_sanity(rows, scene_counts)
    bad = set(sanity.pop("bad_lines"))
    report["sanity"] = sanity
    if bias:
        report["bias"] = check_bias(rows, bad, folds=folds, seed=seed, margin=margin, min_rows=min_rows,
                                    max_rows=max_rows)  # fmt: skip
        report["bias_settings"] = {"folds": folds, "seed": seed, "margin": margin, "min_rows": min_rows,
                                   "max_rows": max_rows}  # fmt: skip
    flagged = sorted(qt for qt, e in report.get("bias", {}).items() if e["flagged"])
    verification = report.get("verification")
    report["summary"] = {
        "leaking_rows": report["leakage"]["leaking_rows"],
        "rows_with_issues": sanity["rows_with_issues"],
        "biased_types": flagged,
        "disagreements": None if verification is None else verification["disagreements"],
    }
    report["summary"]["clean"] = not (
        report["summary"]["leaking_rows"]
        or sanity["rows_with_issues"]
        or flagged
        or (verification or {}).get("disagreements")
    )
    return report


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def format_summary(report: dict[str, Any], max_scenes: int = 8) -> str:
    """The report as readable terminal tables (at most ``max_scenes`` scene names per line)."""
    from functools import partial

    from tabulate import tabulate as _tabulate

    tabulate = partial(_tabulate, disable_numparse=True)
    k = max_scenes
    out = [
        f"{report['file']}: {report['rows']} rows, format {report['format']} ({report['format_help']})",
        "question types: "
        + ", ".join(f"{qt} {n}" for qt, n in report["question_types"].items())
        + (f" ({report['types_inferred']} inferred from the templates" if report["types_inferred"] else "")
        + (f", {report['open_ended']} open-ended direction rows" if report["open_ended"] else "")
        + (")" if report["types_inferred"] else ""),
        "",
        "LEAKAGE",
    ]
    leak = report["leakage"]
    rows = []
    for d, b in leak["vsibench"]["per_dataset"].items():
        rows.append([f"VSI-Bench {d}", b["rows"], f"{len(b['scenes'])} / {b['of']}", _scenes(b["scenes"], k)])
    val = leak["scannet_val"]
    rows.append(["ScanNet v2 val", val["rows"], f"{len(val['scenes'])} / {val['of']}", _scenes(val["scenes"], k)])
    out.append(tabulate(rows, headers=["test set", "rows", "scenes", "leaking scenes"]))
    if leak["rows_without_scene"]:
        out.append(f"({leak['rows_without_scene']} rows name no scene: not checked)")
    out += ["", "SANITY" + ("" if report["sanity"]["scene_checks"] else " (uniqueness unchecked: no --scannet)")]
    sanity = report["sanity"]
    used = [c for c in CHECKS if sanity["totals"][c]]
    if used:
        rows = [[qt, *(sanity["per_type"][qt].get(c, 0) for c in used)] for qt in sanity["per_type"]]
        out.append(tabulate(rows, headers=["question_type", *used]))
        for qt, checks in sanity["examples"].items():
            for c, examples in checks.items():
                ex = examples[0]
                out.append(f"  e.g. {qt} {c}: line {ex['line']} ({ex['detail']})")
    out.append(f"{sanity['rows_with_issues']} rows with issues" + (
        f"; {sanity['unknown_type']} rows of no known question type" if sanity["unknown_type"] else ""))  # fmt: skip
    if "bias" in report:
        s = report["bias_settings"]
        out += ["", f"ANSWER BIAS (text-only model: {s['folds']}-fold CV on types with >= {s['min_rows']} rows; "
                f"flagged when it beats chance by > {100 * s['margin']:g} points)"]  # fmt: skip
        rows = [
            [qt, e["rows"], _pct(e["chance"]), e["chance_answer"], _pct(e["text_only"]),
             "" if e["gain"] is None else f"{100 * e['gain']:+.1f}", "FLAGGED" if e["flagged"] else ""]
            for qt, e in report["bias"].items()
        ]  # fmt: skip
        out.append(
            tabulate(rows, headers=["question_type", "rows", "chance", "chance answer", "text only", "gain", ""])
        )
    v = report.get("verification")
    if v is not None:
        out += ["", f"VERIFICATION (--scannet, variant {v['variant']}, numerical tolerance {100 * v['tolerance']:g}%)"]
        rows = [
            [qt, s["rows"], s["derived"], s["agree"], _pct(s["agree"] / s["derived"]) if s["derived"] else "skipped"]
            for qt, s in v["per_type"].items()
        ]
        out.append(tabulate(rows, headers=["question_type", "rows", "re-derived", "agree", "agreement %"]))
        sc = v["scenes"]
        out.append(
            f"scenes: {sc['loaded']} loaded, {sc['not_under_root']} not under the root, {len(sc['failed'])} failed"
        )
        for d in v["worst"]:
            out.append(
                f"  line {d['line']} {d['scene']} {d['question_type']}: given {d['given']}, derived {d['derived']}"
            )
    s = report["summary"]
    out += ["", "CLEAN" if s["clean"] else "NOT CLEAN: " + "; ".join(problems(s))]
    return "\n".join(out)


def _scenes(names: list[str], k: int) -> str:
    return ", ".join(names[:k]) + (f", ... (+{len(names) - k})" if len(names) > k else "")


def problems(s: dict[str, Any]) -> list[str]:
    """The problems of a report summary, one phrase each (empty when clean)."""
    out = []
    if s["leaking_rows"]:
        out.append(f"{s['leaking_rows']} row(s) from test scenes")
    if s["rows_with_issues"]:
        out.append(f"{s['rows_with_issues']} row(s) with sanity issues")
    if s["biased_types"]:
        out.append("text-guessable types: " + ", ".join(s["biased_types"]))
    if s["disagreements"]:
        out.append(f"{s['disagreements']} answer(s) disagreeing with the scans")
    return out
