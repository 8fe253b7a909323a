"""Training curves of a GRPO run as a picture: ``train_curves.png`` from the trainer's log history.

Four panels over the optimiser steps, read from ``trainer_state.json``'s ``log_history`` (what TRL logs each
``logging_steps``):

1. **reward per task**: ``rewards/<reward>/<task>`` of every reward but the format one (e.g. the accuracy reward of
   each SR task, the metric the evaluation later reports), and the overall ``rewards/<reward>/mean``;
2. **format reward**: ``rewards/format/mean`` (``<think>…</think><answer>…</answer>``);
3. **KL to the reference model**: ``kl`` (logged only when ``beta > 0``);
4. **completion length**: ``completions/mean_length`` and ``completions/max_length`` in tokens.

Each series is drawn as its logged points (thin) and, with more than 10 points, a running mean over a tenth of the
run (thick), so that a trend is visible through the sampling noise of small groups; a reward's overall mean is
dashed. The figure is drawn on a bare
:class:`matplotlib.figure.Figure` (Agg, no display) and written atomically; the same log gives the same bytes.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from spatial_r1_eval.files import atomic_open

#: File name of the curves in a run's output folder.
CURVES_FILE = "train_curves.png"
#: Panel titles, in drawing order.
PANELS = ("reward per task", "format reward", "KL to the reference", "completion length (tokens)")
_FORMAT = "format"


def curve_series(log_history: list[dict[str, Any]]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """The ``(step, value)`` series of each panel: ``{panel: {label: [(step, value), ...]}}``.

    Args:
        log_history: ``trainer.state.log_history`` (or ``trainer_state.json``'s ``log_history``).

    Returns:
        One entry per :data:`PANELS` title (possibly empty), labels sorted.

    Example:
        >>> logs = [{"step": 1, "rewards/accuracy/object_counting": 0.2, "rewards/format/mean": 0.0, "kl": 0.0},
        ...         {"step": 2, "rewards/accuracy/object_counting": 0.4, "completions/mean_length": 12.0},
        ...         {"step": 2, "train_runtime": 3.0}]
        >>> series = curve_series(logs)
        >>> series["reward per task"]
        {'accuracy/object_counting': [(1, 0.2), (2, 0.4)]}
        >>> series["format reward"], series["KL to the reference"], series["completion length (tokens)"]
        ({'format': [(1, 0.0)]}, {'kl': [(1, 0.0)]}, {'mean': [(2, 12.0)]})
    """
    out: dict[str, dict[str, list[tuple[int, float]]]] = {p: defaultdict(list) for p in PANELS}
    for entry in log_history:
        step = entry.get("step")
        if step is None:
            continue
        for key, value in entry.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            panel, label = _panel_of(key)
            if panel is not None:
                out[panel][label].append((int(step), float(value)))
    return {p: dict(sorted(s.items())) for p, s in out.items()}


def _panel_of(key: str) -> tuple[str | None, str]:
    if key == "kl":
        return PANELS[2], "kl"
    if key in ("completions/mean_length", "completions/max_length"):
        return PANELS[3], key.split("/")[1].replace("_length", "")
    if not key.startswith("rewards/"):
        return None, ""
    parts = key.split("/")[1:]
    if len(parts) != 2 or parts[1] == "std":
        return None, ""
    reward, task = parts
    if reward == _FORMAT:
        return (PANELS[1], _FORMAT) if task == "mean" else (None, "")
    return PANELS[0], f"{reward}/{task}"


def _running_mean(values: list[float], window: int) -> list[float]:
    """Mean of the last ``window`` values at each point (shorter at the start).

    Example:
        >>> _running_mean([0.0, 1.0, 2.0, 3.0], 2)
        [0.0, 0.5, 1.5, 2.5]
    """
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def curves_figure(log_history: list[dict[str, Any]], title: str = "GRPO training"):
    """A 2x2 :class:`~matplotlib.figure.Figure` of :func:`curve_series`; the thin line of each series is its data."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    series = curve_series(log_history)
    fig = Figure(figsize=(12, 8), dpi=100)
    axes = fig.subplots(2, 2).flatten()
    for ax, panel in zip(axes, PANELS, strict=True):
        lines = series[panel]
        ax.set_title(panel)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if not lines:
            note = "not logged" + (" (beta = 0)" if panel == PANELS[2] else "")
            ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes, color="0.4")
            continue
        cmap = colormaps["tab10" if len(lines) <= 10 else "tab20"]
        for i, (label, points) in enumerate(lines.items()):
            steps = [s for s, _ in points]
            values = [v for _, v in points]
            color, style = cmap(i % cmap.N), "--" if label.endswith("/mean") else "-"  # a reward's mean: dashed
            ax.plot(steps, values, color=color, ls=style, lw=0.8, alpha=0.45 if len(points) > 10 else 1.0,
                    marker="o" if len(points) <= 10 else None, ms=3, label=label)  # fmt: skip
            if len(points) > 10:  # the running mean (unlabelled: not in the legend)
                ax.plot(steps, _running_mean(values, max(2, len(points) // 10)), color=color, ls=style, lw=2.2)
        if panel in PANELS[:2]:
            ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=7, loc="best", frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_train_curves(
    log_history: list[dict[str, Any]], path: str | os.PathLike[str], title: str = "GRPO training"
) -> Path:
    """Write :func:`curves_figure` to ``path`` as PNG (atomically; no software stamp, so the bytes are stable).

    Raises:
        ValueError: The log history has no step with any of the plotted metrics.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not any(curve_series(log_history).values()):
        raise ValueError("log history has no reward, KL or completion-length entries to plot (logging_steps?)")
    fig = curves_figure(log_history, title)
    FigureCanvasAgg(fig)
    path = Path(path)
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", metadata={"Software": None})
    return path
