"""The audit report as one self-contained HTML page, in the leaderboard page's style (its CSS, inline SVG charts
drawn by matplotlib and exported with :func:`spatial_r1_eval.leaderboard.plots.figure_svg`).

Sections: verdict, leakage (table + chart of leaking scenes per test set), sanity (table + chart of issues per
question type), answer bias (table + chart of chance vs text-only score per type), verification (table + chart of
agreement per type, worst disagreements). No network access, no timestamps: same report, same bytes.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spatial_r1_eval.audit.sanity import CHECKS
from spatial_r1_eval.files import atomic_open
from spatial_r1_eval.leaderboard.html import PAGE_CSS
from spatial_r1_eval.leaderboard.plots import _colors, figure_svg

_EXTRA_CSS = (
    "p.verdict{font-size:1.1em;font-weight:700}p.clean{color:#11803b}p.dirty{color:#b3261e}"
    "#leakage td:last-child,#worst td:nth-child(4){white-space:normal;text-align:left;font-size:11px}"
)


def bars_svg(labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str, xlabel: str,
             xmax: float | None = None) -> str:  # fmt: skip
    """Horizontal grouped bars (one group per label, one bar per series) as an inline ``<svg>``."""
    import numpy as np
    from matplotlib.figure import Figure

    n = len(labels)
    fig = Figure(figsize=(8.5, 0.9 + 0.32 * n * max(1, len(series))), dpi=100)
    ax = fig.add_subplot()
    y = np.arange(n)
    height = 0.8 / max(1, len(series))
    for i, ((name, values), color) in enumerate(zip(series.items(), _colors(len(series)), strict=True)):
        v = np.array([np.nan if x is None else float(x) for x in values])
        pos = y - 0.4 + height * (i + 0.5)
        ax.barh(pos, np.nan_to_num(v), height, label=name, color=color)
        for yp, x in zip(pos, v, strict=True):
            if not np.isnan(x):
                ax.annotate(f"{x:.1f}" if xmax == 100 else f"{x:g}", (x, yp), xytext=(2, 0),
                            textcoords="offset points", va="center", fontsize=7)  # fmt: skip
    ax.set_yticks(y, list(labels), fontsize=8)
    ax.invert_yaxis()
    if xmax is not None:
        ax.set_xlim(0, xmax)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    if len(series) > 1:
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return figure_svg(fig)


def _table(table_id: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return (
        f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def _gain(x: float | None) -> str:
    return "" if x is None else f"{100 * x:+.1f}"


def _agreement(x: dict[str, int]) -> str:
    return _pct(x["agree"] / x["derived"]) if x["derived"] else "skipped"


def _chart(labels: Sequence[str], series: dict[str, Sequence[float | None]], title: str, xlabel: str,
           xmax: float | None = None) -> str:  # fmt: skip
    return '<div class="chart">' + bars_svg(labels, series, title=title, xlabel=xlabel, xmax=xmax) + "</div>"


def render_html(report: dict[str, Any], title: str = "Training-set audit") -> str:
    """The page of an :func:`~spatial_r1_eval.audit.report.audit_file` report as one string."""
    from spatial_r1_eval.audit.report import problems

    s = report["summary"]
    verdict = "CLEAN" if s["clean"] else "NOT CLEAN: " + "; ".join(problems(s))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{PAGE_CSS}{_EXTRA_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">{html.escape(report["file"])}: {report["rows"]} rows, format {html.escape(report["format"])}'
        f" ({html.escape(report['format_help'])})</p>",
        f'<p class="verdict {"clean" if s["clean"] else "dirty"}" id="verdict">{html.escape(verdict)}</p>',
    ]
    leak = report["leakage"]
    sets = [(f"VSI-Bench {d}", b) for d, b in leak["vsibench"]["per_dataset"].items()]
    sets.append(("ScanNet v2 val", leak["scannet_val"]))
    leak_rows = [[n, b["rows"], len(b["scenes"]), b["of"], " ".join(b["scenes"])] for n, b in sets]
    share = {"leaking scenes": [100 * len(b["scenes"]) / b["of"] for _, b in sets]}
    parts += [
        "<h2>Leakage</h2>",
        _table("leakage", ["test set", "rows", "leaking scenes", "of", "scenes"], leak_rows),
        _chart([n for n, _ in sets], share, "Test scenes present in the file", "% of the test set's scenes", 100),
    ]
    sanity = report["sanity"]
    parts.append("<h2>Question sanity</h2>")
    used = [c for c in CHECKS if sanity["totals"][c]]
    if used:
        types = list(sanity["per_type"])
        counts = {c: [sanity["per_type"][qt].get(c, 0) for qt in types] for c in used}
        table = [[qt, *(counts[c][i] for c in used)] for i, qt in enumerate(types)]
        parts += [
            _table("sanity", ["question type", *used], table),
            _chart(types, counts, "Rows failing each check", "rows"),
        ]
    parts.append(f"<p>{sanity['rows_with_issues']} rows with issues.</p>")
    if "bias" in report:
        bias = report["bias"]
        types = list(bias)
        table = [
            [qt, e["rows"], _pct(e["chance"]), e["chance_answer"], _pct(e["text_only"]), _gain(e["gain"]),
             "FLAGGED" if e["flagged"] else ""]
            for qt, e in bias.items()
        ]  # fmt: skip
        scores = {
            "chance (frequency)": [100 * bias[qt]["chance"] for qt in types],
            "text only (CV)": [None if bias[qt]["text_only"] is None else 100 * bias[qt]["text_only"] for qt in types],
        }
        heads = ["question type", "rows", "chance", "chance answer", "text only", "gain", "flag"]
        parts += [
            "<h2>Answer bias</h2>",
            _table("bias", heads, table),
            _chart(types, scores, "Blind scores per question type", "score (0-100)", 100),
        ]
    v = report.get("verification")
    if v is not None:
        per_type = v["per_type"]
        table = [[qt, x["rows"], x["derived"], x["agree"], _agreement(x)] for qt, x in per_type.items()]
        agreement = {
            "agreement %": [100 * x["agree"] / x["derived"] if x["derived"] else None for x in per_type.values()]
        }
        parts += [
            f"<h2>Verification against the scans (variant {html.escape(v['variant'])})</h2>",
            _table("verification", ["question type", "rows", "re-derived", "agree", "agreement %"], table),
            _chart(list(per_type), agreement, "Answers agreeing with the scans", "%", 100),
        ]
        if v["worst"]:
            worst = [
                [d["line"], d["scene"], d["question_type"], d["question"], d["given"], d["derived"]]
                for d in v["worst"]
            ]
            heads = ["line", "scene", "question type", "question", "given", "derived"]
            parts += ["<h2>Worst disagreements</h2>", _table("worst", heads, worst)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(report: dict[str, Any], path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write :func:`render_html` to ``path`` atomically; returns the path."""
    path = Path(path)
    text = render_html(report, **kwargs)
    with atomic_open(path) as f:
        f.write(text)
    return path
