"""``spatial-r1 audit``: check a spatial-QA training set for test leakage, broken questions, answer bias and wrong
answers.

Example::

    spatial-r1 audit train.jsonl                             # leakage, sanity, bias; prints the summary
    spatial-r1 audit sr_train.jsonl --json audit.json --html audit.html --fail-on-leak
    spatial-r1 audit sr.jsonl --scannet /data/scannet        # also re-derive every answer from the scans

Exit status: 0 (also when problems are found, unless told otherwise), 1 with ``--fail-on-leak`` when a row comes
from a VSI-Bench or ScanNet v2 validation scene (or ``--fail-on-issues`` and the audit is not clean), 2 for bad
input (one-line error).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``spatial-r1 audit``."""
    parser.add_argument("file", help="question file: .jsonl, .json or .parquet (VSI-Bench/SR or Video-R1 rows)")
    parser.add_argument("--scannet", default=None, help="ScanNet root: re-derive answers for the scenes found there")
    parser.add_argument("--variant", default="paper", choices=("paper", "vsibench"), help="re-derivation procedures")
    parser.add_argument("--tolerance", type=float, default=0.05, help="relative tolerance of numerical answers")
    parser.add_argument("--json", default=None, metavar="PATH", help="write the full report as JSON here")
    parser.add_argument("--html", default=None, metavar="PATH", help="write a self-contained HTML page here")
    parser.add_argument("--folds", type=int, default=5, help="k of the text-only model's k-fold CV")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and samples")
    parser.add_argument(
        "--margin", type=float, default=5.0, help="flag types where text beats chance by > this (points, 0-100)"
    )
    parser.add_argument("--max-rows", type=int, default=2000, help="rows per type the text-only model is fitted on")
    parser.add_argument("--no-bias", action="store_true", help="skip the answer-bias checks")
    parser.add_argument("--fail-on-leak", action="store_true", help="exit 1 when any row comes from a test scene")
    parser.add_argument("--fail-on-issues", action="store_true", help="exit 1 when the audit is not clean")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def run(args: argparse.Namespace) -> int:
    """Audit, print the summary, write ``--json`` / ``--html``; the exit status follows the ``--fail-on-*`` flags."""
    from spatial_r1_eval.audit.report import audit_file, format_summary
    from spatial_r1_eval.files import write_json

    if not 0 <= args.margin <= 100:
        raise ValueError(f"--margin is in points (0-100), got {args.margin}")
    if args.max_rows < 2 * args.folds:
        raise ValueError(f"--max-rows must be at least 2 x --folds ({2 * args.folds}), got {args.max_rows}")
    report = audit_file(
        args.file,
        scannet=args.scannet,
        variant=args.variant,
        tolerance=args.tolerance,
        folds=args.folds,
        seed=args.seed,
        margin=args.margin / 100.0,
        max_rows=args.max_rows,
        bias=not args.no_bias,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    sys.stdout.write(format_summary(report) + "\n")
    if args.json:
        write_json(args.json, report)
        sys.stdout.write(f"wrote {args.json}\n")
    if args.html:
        from spatial_r1_eval.audit.html import write_html

        write_html(report, args.html)
        sys.stdout.write(f"wrote {args.html}\n")
    if args.fail_on_leak and report["summary"]["leaking_rows"]:
        return 1
    if args.fail_on_issues and not report["summary"]["clean"]:
        return 1
    return 0
