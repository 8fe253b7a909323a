"""Leaderboard charts (matplotlib, Agg): a per-task grouped bar chart and a radar chart, PNG or SVG.

Charts are drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot state, no display needed), scores on
a fixed 0-100 axis, one colour per row with a legend, 95% intervals as error bars when the rows have them.
Output is deterministic: PNG without the software stamp, SVG with a fixed hash salt and no date.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

from spatial_r1_eval.files import atomic_open
from spatial_r1_eval.leaderboard.table import COLUMNS, LABELS, TASK_COLUMNS, Leaderboard, Row

#: Default number of rows drawn when the table has more (runs and the baseline always come first).
MAX_PLOT_ROWS = 8


def plot_rows(board: Leaderboard, names: Sequence[str] | None = None, max_rows: int = MAX_PLOT_ROWS) -> list[Row]:
    """The rows a chart shows: ``names`` when given, else the baseline, the runs, then the best reference rows.

    Example:
        >>> rows = [Row(f"ref{i}", {"overall": float(i)}, kind="reference") for i in range(12)] + [Row("mine", {})]
        >>> [r.name for r in plot_rows(Leaderboard(rows), max_rows=4)]
        ['mine', 'ref11', 'ref10', 'ref9']
    """
    if names:
        return [board.row(n) for n in names]
    chosen: list[Row] = []
    if board.baseline is not None:
        chosen.append(board.row(board.baseline))
    chosen += [r for r in board.rows if r.kind == "run" and r not in chosen]
    rest = [r for r in board.rows if r not in chosen]
    rest.sort(key=lambda r: -(r.values.get("overall") if r.values.get("overall") is not None else -1.0))
    chosen += rest[: max(0, max_rows - len(chosen))]
    return chosen


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _wrap(label: str) -> str:
    words = label.split()
    half = (len(words) + 1) // 2
    return " ".join(words[:half]) + "\n" + " ".join(words[half:]) if len(words) > 2 else label.replace(" ", "\n", 1)


def bar_figure(rows: Sequence[Row], title: str = "Per-task scores"):
    """Grouped bars: one group per column (8 tasks + Overall), one bar per row, 0-100 axis."""
    import numpy as np
    from matplotlib.figure import Figure

    if not rows:
        raise ValueError("nothing to plot: no rows")
    fig = Figure(figsize=(max(10.0, 1.3 * len(COLUMNS) + 0.25 * len(rows) * len(COLUMNS) / 3), 5.6), dpi=110)
    ax = fig.add_subplot()
    x = np.arange(len(COLUMNS))
    width = 0.8 / len(rows)
    for i, (row, color) in enumerate(zip(rows, _colors(len(rows)), strict=True)):
        heights = [row.values.get(c) for c in COLUMNS]
        pos = x - 0.4 + width * (i + 0.5)
        present = [j for j, h in enumerate(heights) if h is not None]
        values = [heights[j] for j in present]
        yerr = None
        if row.ci and all(c in row.ci for c in (COLUMNS[j] for j in present)):
            yerr = np.array(
                [[heights[j] - row.ci[COLUMNS[j]][0], row.ci[COLUMNS[j]][1] - heights[j]] for j in present]
            ).T.clip(min=0)
        ax.bar(pos[present], values, width, label=row.name, color=color, yerr=yerr, capsize=2, edgecolor="white")
        if len(rows) <= 4:
            for xp, v in zip(pos[present], values, strict=True):
                ax.annotate(f"{v:.1f}", (xp, v), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    ax.set_xticks(x, [_wrap(LABELS[c]) for c in COLUMNS], fontsize=9)
    ax.axvline(len(COLUMNS) - 1.5, color="0.6", linewidth=0.8, linestyle="--")
    ax.set_ylim(0, 100)
    ax.set_ylabel("score (0-100)")
    ax.set_title(title)
    ax.grid(axis="y", color="0.9")
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def radar_figure(rows: Sequence[Row], title: str = "Per-task profile"):
    """Radar (spider) chart over the eight task columns, 0-100 radial axis; missing tasks break the line."""
    import numpy as np
    from matplotlib.figure import Figure

    if not rows:
        raise ValueError("nothing to plot: no rows")
    fig = Figure(figsize=(8.5, 6.5), dpi=110)
    ax = fig.add_subplot(projection="polar")
    n = len(TASK_COLUMNS)
    angles = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    for row, color in zip(rows, _colors(len(rows)), strict=True):
        values = np.array([np.nan if row.values.get(c) is None else row.values[c] for c in TASK_COLUMNS])
        closed_a = np.append(angles, angles[0])
        closed_v = np.append(values, values[0])
        ax.plot(closed_a, closed_v, color=color, linewidth=1.8, label=row.name, marker="o", markersize=3)
        if not np.isnan(values).any():
            ax.fill(closed_a, closed_v, color=color, alpha=0.08)
    ax.set_xticks(angles, [_wrap(LABELS[c]) for c in TASK_COLUMNS], fontsize=9)
    ax.set_ylim(0, 100)
    ax.set_yticks([20, 40, 60, 80, 100], ["20", "40", "60", "80", "100"], fontsize=7, color="0.4")
    ax.set_title(title, pad=24)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.12, 1.05), frameon=False)
    fig.tight_layout()
    return fig


def _save(fig, path: str | os.PathLike[str], fmt: str) -> Path:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    path = Path(path)
    with atomic_open(path, "wb") as f, matplotlib.rc_context({"svg.hashsalt": "spatial-r1-leaderboard"}):
        fig.savefig(f, format=fmt, metadata=_metadata(fmt))
    return path


def _metadata(fmt: str) -> dict:
    return {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}


def save_bar_chart(rows: Sequence[Row], path: str | os.PathLike[str], title: str = "Per-task scores") -> Path:
    """Write the grouped bar chart of ``rows`` to ``path`` (PNG; SVG when the name ends in ``.svg``)."""
    return _save(bar_figure(rows, title), path, "svg" if str(path).endswith(".svg") else "png")


def save_radar_chart(rows: Sequence[Row], path: str | os.PathLike[str], title: str = "Per-task profile") -> Path:
    """Write the radar chart of ``rows`` to ``path`` (PNG; SVG when the name ends in ``.svg``)."""
    return _save(radar_figure(rows, title), path, "svg" if str(path).endswith(".svg") else "png")


def bar_chart_svg(rows: Sequence[Row], title: str = "Per-task scores") -> str:
    """The grouped bar chart as an inline ``<svg>`` element (for the HTML page), deterministic."""
    return figure_svg(bar_figure(rows, title))


def figure_svg(fig) -> str:
    """A matplotlib figure as an inline ``<svg>`` element (text as paths, fixed hash salt, no date): deterministic.

    Shared by the leaderboard page and the ``spatial-r1 audit`` page.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "spatial-r1-leaderboard", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", metadata=_metadata("svg"))
    text = buf.getvalue()
    return text[text.index("<svg") :]
