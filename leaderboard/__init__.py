"""Leaderboards from lmms-eval output folders: tables, plots, bootstrap confidence intervals.

Modules: ``runs`` (read lmms-eval outputs), ``reference`` (published rows), ``table`` (the table and its
Markdown / LaTeX / CSV renderers), ``html`` (static page), ``plots`` (bar and radar charts), ``stats``
(bootstrap intervals, paired test), ``cli`` (``spatial-r1 leaderboard``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable


def render_runs(
    run_dirs: Iterable[str | os.PathLike[str]],
    fmt: str = "md",
    *,
    reference: str | None = None,
    baseline: str | None = None,
) -> str:
    """The leaderboard table of the lmms-eval runs under ``run_dirs`` as text (what ``spatial-r1 eval`` prints).

    Args:
        run_dirs: lmms-eval ``--output_path`` folders (or model sub-folders, or ``*_results.json`` files).
        fmt: ``"md"``, ``"latex"`` or ``"csv"``.
        reference: Optional published rows to include (``"spatial-r1-table1"``).
        baseline: Optional row name for Δ values.

    Raises:
        FileNotFoundError / ValueError: a folder is missing or is not lmms-eval output (one-line message).

    Example:
        >>> print(render_runs([], fmt="csv", reference="spatial-r1-table1").splitlines()[-1])
        Spatial-R1,reference,36.8,33.0,62.9,38.2,58.1,31.0,28.9,32.7,41.8
    """
    from spatial_r1_eval.leaderboard.reference import load_reference
    from spatial_r1_eval.leaderboard.runs import read_runs
    from spatial_r1_eval.leaderboard.table import build_leaderboard

    runs = read_runs(run_dirs)
    rows = load_reference(reference) if reference else []
    return build_leaderboard(runs, reference=rows, baseline=baseline).render(fmt)


__all__ = ["render_runs"]
