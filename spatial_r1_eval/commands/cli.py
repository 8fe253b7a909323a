"""The ``spatial-r1`` command line: one entry point, one module per subcommand.

Each subcommand lives in the module that owns its work and exposes two functions::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

Subcommand modules keep their top-level imports light (heavy libraries are imported inside ``run``), so
``spatial-r1 --help`` is fast. User mistakes (missing files, bad values) raise ``FileNotFoundError`` or
``ValueError`` and are printed here as one line, without a traceback; set ``SPATIAL_R1_DEBUG=1`` (or pass
``--debug``) to see the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

#: subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("spatial_r1_eval.generation.synth_cli", "write synthetic scenes in the exact ScanNet layout"),
    "scene-info": (
        "spatial_r1_eval.generation.scannet_scene",
        "summarise a ScanNet scan folder as load_scene reads it",
    ),
    "generate": ("spatial_r1_eval.generation.generate_cli", "generate the SR dataset from ScanNet scans"),
    "validate-vsibench": (
        "spatial_r1_eval.generation.validate_cli",
        "recompute VSI-Bench answers from its metadata and report the agreement",
    ),
    "tiny-model": ("spatial_r1_eval.tiny_model", "write a tiny random MLLM checkpoint (--arch qwen3_vl, ...)"),
    "eval": ("spatial_r1_eval.commands.evaluate", "run lmms-eval on SR / VSI-Bench and print the leaderboard"),
    "leaderboard": ("spatial_r1_eval.leaderboard.cli", "tables, plots and confidence intervals from lmms-eval runs"),
    "train": ("spatial_r1_eval.trainer.cli", "GRPO fine-tuning of a video MLLM from a recipe YAML"),
    "demo": ("spatial_r1_eval.commands.demo", "the whole pipeline on synthetic scenes, end to end"),
    "audit": (
        "spatial_r1_eval.audit.cli",
        "check a spatial-QA training set for test leakage, broken questions, answer bias, wrong answers",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    from spatial_r1_eval import __version__

    parser = argparse.ArgumentParser(prog="spatial-r1", description="spatial-r1-eval: video spatial reasoning toolkit")
    parser.add_argument("--version", action="version", version=f"spatial-r1-eval {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="verbose logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name and module_name.startswith(e.name):
                continue  # subcommand not built yet in this checkout
            raise
        p = sub.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip().splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("SPATIAL_R1_DEBUG") == "1"
    try:
        return int(args._run(args) or 0)
    except (FileNotFoundError, ValueError, NotADirectoryError, PermissionError) as e:
        if debug:
            raise
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"spatial-r1 {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spatial-r1 {args.command}: interrupted (finished work is kept; re-run to resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
