"""Run lmms-eval on our tasks and print the leaderboard table of that run (``spatial-r1 eval``).

A thin wrapper: it runs ``python -m lmms_eval`` in a subprocess with ``--include_path`` set to our
``tasks/`` folder and ``--log_samples``, then prints the table of the results files that run wrote
(through :mod:`spatial_r1_eval.leaderboard`). Plain ``lmms-eval --include_path "$(spatial-r1 eval
--print-include-path)" …`` does the same evaluation without the table.

Examples::

    spatial-r1 eval --tasks sr,sr_r1 --model qwen2_5_vl \\
        --model-args pretrained=/tmp/tiny-qwen,device=cpu,device_map=cpu,max_pixels=12544,min_pixels=3136 \\
        --sr-dir demo_out/sr --output runs/
    spatial-r1 eval --tasks vsibench_direct_blind --model chance_frequency --vsibench-dir ../shared/data/vsibench \\
        --output runs/
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from spatial_r1_eval.tasks import tasks_dir

logger = logging.getLogger(__name__)


def build_command(args: argparse.Namespace) -> list[str]:
    """The ``python -m lmms_eval`` command line for ``args``.

    >>> ns = argparse.Namespace(tasks="sr", model="chance_frequency", model_args="", output="out", limit=None,
    ...                         gen_kwargs=None, batch_size=None, lmms_eval_args=[])
    >>> build_command(ns)[3:7]  # doctest: +ELLIPSIS
    ['--include_path', '...tasks', '--tasks', 'sr']
    """
    cmd = [sys.executable, "-m", "lmms_eval", "--include_path", str(tasks_dir()), "--tasks", args.tasks]
    cmd += ["--model", args.model, "--output_path", str(args.output), "--log_samples"]
    if args.model_args:
        cmd += ["--model_args", args.model_args]
    if args.limit is not None:
        cmd += ["--limit", str(args.limit)]
    if args.gen_kwargs:
        cmd += ["--gen_kwargs", args.gen_kwargs]
    if args.batch_size is not None:
        cmd += ["--batch_size", str(args.batch_size)]
    return cmd + list(args.lmms_eval_args or [])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``spatial-r1 eval`` options."""
    parser.add_argument("--tasks", default="sr", help="comma-separated lmms-eval tasks (default sr)")
    parser.add_argument("--model", help="lmms-eval model name (qwen2_5_vl, vllm, openai, chance_frequency, ...)")
    parser.add_argument("--model-args", default="", help="lmms-eval --model_args string (key=value,...)")
    parser.add_argument("--output", help="lmms-eval --output_path folder")
    parser.add_argument("--limit", type=float, help="evaluate only the first N questions per task (or a fraction)")
    parser.add_argument("--gen-kwargs", help="lmms-eval --gen_kwargs override, e.g. max_new_tokens=64")
    parser.add_argument("--batch-size", type=int, help="lmms-eval --batch_size")
    parser.add_argument("--sr-dir", help="SR data folder (sets SPATIAL_R1_SR_DIR for the run)")
    parser.add_argument("--vsibench-dir", help="local VSI-Bench folder (sets VSIBENCH_DIR for the run)")
    parser.add_argument("--reference", help="add published rows to the table, e.g. spatial-r1-table1")
    parser.add_argument("--format", choices=("md", "latex", "csv"), default="md", help="table format (default md)")
    parser.add_argument("--print-include-path", action="store_true", help="print our tasks folder and exit")
    parser.add_argument(
        "lmms_eval_args", nargs=argparse.REMAINDER, help="further lmms-eval arguments after --, passed unchanged"
    )


def _new_results(output: Path, since: float) -> list[Path]:
    return sorted(p for p in output.rglob("*_results.json") if p.is_file() and p.stat().st_mtime >= since)


def print_table(results_files: list[Path], reference: str | None = None, fmt: str = "md") -> int:
    """Print the leaderboard table of ``results_files`` (via ``spatial_r1_eval.leaderboard``)."""
    from spatial_r1_eval.leaderboard import cli as leaderboard_cli

    parser = argparse.ArgumentParser(prog="spatial-r1 leaderboard")
    leaderboard_cli.add_arguments(parser)
    argv = [str(p) for p in results_files] + ["--format", fmt] + (["--reference", reference] if reference else [])
    return int(leaderboard_cli.run(parser.parse_args(argv)) or 0)


def run(args: argparse.Namespace) -> int:
    """Run lmms-eval, then print the table of the results it wrote."""
    if args.print_include_path:
        print(tasks_dir())  # noqa: T201 (CLI output)
        return 0
    if not args.model:
        raise ValueError("--model is required (e.g. qwen2_5_vl, chance_frequency)")
    if not args.output:
        raise ValueError("--output is required (the lmms-eval output folder)")
    if args.lmms_eval_args and args.lmms_eval_args[0] == "--":
        args.lmms_eval_args = args.lmms_eval_args[1:]
    env = dict(os.environ)
    for option, name in ((args.sr_dir, "SPATIAL_R1_SR_DIR"), (args.vsibench_dir, "VSIBENCH_DIR")):
        if option:
            if not Path(option).is_dir():
                raise FileNotFoundError(f"{option}: no such folder (for {name})")
            env[name] = str(Path(option).resolve())
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    args.output = output
    cmd = build_command(args)
    logger.info("running %s", " ".join(cmd))
    since = time.time() - 1.0
    # run inside the output folder: lmms-eval reads ``--tasks sr`` as a task folder when ``./sr`` exists
    proc = subprocess.run(cmd, env=env, cwd=output, check=False)
    if proc.returncode != 0:
        print(f"spatial-r1 eval: lmms-eval failed with exit status {proc.returncode}", file=sys.stderr)  # noqa: T201
        return proc.returncode
    results = _new_results(output, since)
    if not results:
        raise FileNotFoundError(f"{output}: lmms-eval wrote no *_results.json (see its log above)")
    from spatial_r1_eval.commands.stack_check import versions
    from spatial_r1_eval.leaderboard.protocol import write_versions

    installed = versions()
    for path in results:
        write_versions(path, installed)
    print()  # noqa: T201 (CLI output)
    return print_table(results, args.reference, args.format)
