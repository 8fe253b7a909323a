"""Tables, plots and confidence intervals from lmms-eval output folders (``spatial-r1 leaderboard``).

Examples::

    spatial-r1 leaderboard runs/ --reference spatial-r1-table1 --format md
    spatial-r1 leaderboard runs/a runs/b --baseline "chance_frequency (sr)" --ci --html lb.html --plot lb.png
    spatial-r1 leaderboard runs/a runs/b --compare "chance_random (sr)" "chance_frequency (sr)"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``leaderboard`` options."""
    parser.add_argument(
        "runs",
        nargs="*",
        metavar="RUN_DIR",
        help="lmms-eval --output_path folders (or model sub-folders, or *_results.json files)",
    )
    parser.add_argument(
        "--reference",
        metavar="NAME",
        help="add published rows: spatial-r1-table1 (the Spatial-R1 paper's Table 1)",
    )
    parser.add_argument("--format", choices=("md", "latex", "csv"), default="md", help="table format (default md)")
    parser.add_argument("--output", metavar="FILE", help="write the table here instead of stdout")
    parser.add_argument("--html", metavar="FILE", help="write a self-contained HTML page (sortable table + chart)")
    parser.add_argument("--plot", metavar="FILE", help="write a per-task grouped bar chart (PNG, or SVG by name)")
    parser.add_argument("--radar", metavar="FILE", help="write a radar chart of the eight tasks (PNG, or SVG)")
    parser.add_argument(
        "--plot-rows",
        nargs="+",
        metavar="ROW",
        help="rows to draw in the charts (default: baseline, runs, then best reference rows, up to 8)",
    )
    parser.add_argument("--baseline", metavar="ROW", help="row name to show differences (Δ) against")
    parser.add_argument("--ci", action="store_true", help="95%% bootstrap intervals per task (needs --log_samples)")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("RUN_A", "RUN_B"),
        help="paired bootstrap test of B vs A on their shared questions (row names or run folders)",
    )
    parser.add_argument(
        "--protocol",
        action="store_true",
        help="list the question sets (name, count, fingerprint) and each run row's evaluation protocol",
    )
    parser.add_argument(
        "--analysis",
        metavar="DIR",
        help="per-task error analysis of the runs (PNG per question type, analysis.json, index.html) into DIR",
    )
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def _resolve_run(spec: str, runs: list):
    """A run given by row name, or by a folder / results file holding exactly one VSI-Bench-style task."""
    from spatial_r1_eval.leaderboard.runs import read_runs

    for r in runs:
        if r.name == spec:
            return r
    if Path(spec).exists():
        found = read_runs([spec])
        if len(found) != 1:
            names = ", ".join(r.name for r in found)
            raise ValueError(f"--compare {spec}: holds {len(found)} task runs ({names}); name one of them instead")
        return found[0]
    names = ", ".join(r.name for r in runs) or "none"
    raise ValueError(f"--compare {spec!r}: neither a run row name nor an existing path; run rows: {names}")


def compare_runs(run_a, run_b, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """Paired bootstrap of ``run_b`` vs ``run_a`` (``TaskRun``) on the questions both logged."""
    from spatial_r1_eval.leaderboard.stats import pair_samples, paired_bootstrap

    for r in (run_a, run_b):
        if r.samples is None:
            raise ValueError(
                f"{r.results_path}: --compare needs the per-question log {r.date_id}_samples_{r.task}.jsonl "
                "(re-run lmms-eval with --log_samples)"
            )
    sa, sb = run_a.samples, run_b.samples
    types, ia, ib = pair_samples(sa.question_ids, sa.question_types, sb.question_ids, sb.question_types)
    return paired_bootstrap(types, sa.scores[ia], sb.scores[ib], n_boot=n_boot, seed=seed)


def comparison_markdown(name_a: str, name_b: str, result: dict) -> str:
    """Markdown table of a paired comparison (Δ, CI and p-value per column, x100)."""
    from tabulate import tabulate

    from spatial_r1_eval.leaderboard.table import COLUMNS, LABELS

    body = [
        [LABELS[c], f"{100 * r.delta:+.1f}", f"[{100 * r.low:+.1f}, {100 * r.high:+.1f}]", f"{r.p_value:.4f}", r.n]
        for c in COLUMNS
        if (r := result.get(c)) is not None
    ]
    headers = [f"{name_b} vs {name_a}", "Δ", "95% CI", "p (paired bootstrap)", "n"]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def protocol_markdown(board) -> str:
    """The question sets of a leaderboard (name, question count, fingerprint, rows) and each run row's protocol."""
    from spatial_r1_eval.leaderboard.protocol import VSIBENCH_FINGERPRINT, VSIBENCH_QUESTIONS, question_set_name

    lines = ["Question sets (best values are marked within a set only):"]
    for group, rows in board.groups().items():
        runs = [r for r in rows if r.protocol is not None]
        if group == VSIBENCH_FINGERPRINT:
            name, count = "VSI-Bench (full test set)", VSIBENCH_QUESTIONS
        else:
            name = " / ".join(dict.fromkeys(question_set_name(r.protocol.task) for r in runs)) or "?"
            count = runs[0].protocol.questions if runs else None
        count_text = "? questions" if count is None else f"{count} questions"
        lines.append(f"- {name}, {count_text}, set {group}: {', '.join(r.name for r in rows)}")
    lines.append("")
    lines.append("Protocol of each run row:")
    lines += [f"- {r.name}: {r.protocol.footnote()}" for r in board.rows if r.protocol is not None]
    return "\n".join(lines)


def build_board(args: argparse.Namespace):
    """Read the runs and reference rows of ``args`` and build the leaderboard; returns ``(board, runs)``.

    Raises:
        ValueError: nothing to show, a bad ``--n-boot``, or an unknown ``--plot-rows`` row (before any file is
            written).
    """
    from spatial_r1_eval.leaderboard.reference import load_reference
    from spatial_r1_eval.leaderboard.runs import read_runs
    from spatial_r1_eval.leaderboard.table import build_leaderboard

    if not args.runs and not args.reference:
        raise ValueError("give at least one RUN_DIR (an lmms-eval --output_path) or --reference spatial-r1-table1")
    if args.n_boot < 100:
        raise ValueError(f"--n-boot must be at least 100, got {args.n_boot}")
    runs = read_runs(args.runs)
    reference = load_reference(args.reference) if args.reference else []
    board = build_leaderboard(
        runs, reference=reference, baseline=args.baseline, ci=args.ci, n_boot=args.n_boot, seed=args.seed
    )
    for name in args.plot_rows or ():
        board.row(name)
    return board, runs


def render_report(board, runs: list, comparisons: list, fmt: str, protocol: bool) -> tuple[str, list[str]]:
    """The table in ``fmt`` with its notes, comparisons and protocol: ``(text, side_lines)``.

    In Markdown everything goes into ``text``; in LaTeX the consistency notes become ``%`` comments and the rest goes
    to ``side_lines`` (printed to stderr, so that ``text`` stays a valid table); in CSV ``text`` is the table only.
    """
    text, side = board.render(fmt), []
    notes = [str(i) for i in board.consistency_issues()] + board.protocol_issues()
    notes += [f"{r.name}: {n}" for r in runs for n in r.notes]
    compared = [comparison_markdown(name_a, name_b, result) for name_a, name_b, result in comparisons]
    if fmt == "md":
        if notes:
            text += "\n\nConsistency check (Overall vs mean of task columns, and results JSON vs samples):\n"
            text += "\n".join(f"- {n}" for n in notes)
        text += "".join("\n\n" + c for c in compared)
        if protocol:
            text += "\n\n" + protocol_markdown(board)
        return text, side
    if fmt == "latex":
        text += "".join(f"\n% consistency: {n}" for n in notes)
    else:
        side += [f"consistency: {n}" for n in notes]
    return text, [*([protocol_markdown(board)] if protocol else []), *side, *compared]


def write_figures(board, runs: list, args: argparse.Namespace, comparisons: list) -> list[Path]:
    """Write ``--analysis``, ``--html``, ``--plot`` and ``--radar``; returns the paths written."""
    written = []
    if args.analysis:
        from spatial_r1_eval.leaderboard.analysis import write_analysis

        written.append(write_analysis(runs, args.analysis))
    if args.html or args.plot or args.radar:
        from spatial_r1_eval.leaderboard.plots import plot_rows, save_bar_chart, save_radar_chart

        chart_rows = plot_rows(board, args.plot_rows)
        if args.html:
            from spatial_r1_eval.leaderboard.html import write_html

            written.append(write_html(board, args.html, chart_rows=chart_rows, comparisons=comparisons))
        if args.plot:
            written.append(save_bar_chart(chart_rows, args.plot))
        if args.radar:
            written.append(save_radar_chart(chart_rows, args.radar))
    return written


def run(args: argparse.Namespace) -> int:
    """Build the table and write whatever was asked for."""
    from spatial_r1_eval.files import atomic_open

    board, runs = build_board(args)
    comparisons = []
    if args.compare:
        run_rows = [r.run for r in board.rows if r.run is not None]
        a, b = (_resolve_run(s, run_rows) for s in args.compare)
        comparisons.append((a.name, b.name, compare_runs(a, b, n_boot=args.n_boot, seed=args.seed)))
    text, side = render_report(board, runs, comparisons, args.format, args.protocol)
    if args.output:
        with atomic_open(args.output) as f:
            f.write(text + "\n")
    else:
        print(text)
    for line in side:
        print(line, file=sys.stderr)
    for path in write_figures(board, runs, args, comparisons):
        print(f"wrote {path}", file=sys.stderr)
    return 0
