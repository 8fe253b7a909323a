"""Generate the SR dataset (seven spatial tasks) from ScanNet scans: filtered, balanced, exported.

``spatial-r1 generate --scannet ROOT --out DIR [--scenes ...] [--tasks ...] [--workers N] [--seed S]
[--max-per-task K] [--per-scene-cap C] [--exclude-scenes FILE] [--variant paper|vsibench] [--no-videos]
[--ray ADDRESS] [--<GeneratorConfig field> VALUE ...]`` writes ``sr.jsonl``, ``sr_train.jsonl``, ``sr.parquet``,
``videos/scannet/<scene>.mp4`` and ``report.json`` into DIR and prints the report table. Re-running resumes
(finished scenes are cached in ``DIR/.cache``).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``spatial-r1 generate``: the run's, the selection's (:class:`~spatial_r1_eval.generation.config.
    FilterConfig`) and the generators' (:class:`~spatial_r1_eval.generation.config.GeneratorConfig`), the last two
    with defaults, choices and help from the dataclasses."""
    from spatial_r1_eval.generation.config import FilterConfig, GeneratorConfig
    from spatial_r1_eval.generation.config_flags import add_dataclass_flags

    parser.add_argument("--scannet", required=True, help="ScanNet root (holds scans/<scene>/ and the label TSV)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--scenes", nargs="+", default=None, help="scene names (default: every scene in scans/)")
    parser.add_argument("--tasks", nargs="+", default=None, help="tasks or question types (default: all eight)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes over scenes")
    parser.add_argument(
        "--exclude-scenes",
        default=None,
        help="scenes never to use: a scene-list file or a built-in list (vsibench, scannet-val, vsibench-scannet...)",
    )
    parser.add_argument("--no-videos", action="store_true", help="do not export videos/scannet/<scene>.mp4")
    parser.add_argument(
        "--video-size",
        default="640x480",
        help="box the videos fit in, aspect kept, even sizes, never enlarged (VSI-Bench: 640x480), or 'native'",
    )
    parser.add_argument(
        "--deterministic-video",
        action="store_true",
        help="x264 without SIMD: same mp4 bytes on any machine (slower; default: same bytes on the same machine)",
    )
    parser.add_argument("--ray", default=None, metavar="ADDRESS", help="run scene jobs on this Ray cluster")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_dataclass_flags(parser.add_argument_group("selection (FilterConfig)"), FilterConfig)
    add_dataclass_flags(
        parser.add_argument_group("generators (GeneratorConfig; defaults = the paper)"), GeneratorConfig
    )


def run(args: argparse.Namespace) -> int:
    """Generate into ``--out`` and print the report table; bad input raises a one-line error for the CLI."""
    from spatial_r1_eval.generation.config import FilterConfig, GeneratorConfig
    from spatial_r1_eval.generation.config_flags import from_flags
    from spatial_r1_eval.generation.filters import format_report
    from spatial_r1_eval.generation.pipeline import generate
    from spatial_r1_eval.generation.scene_lists import load_scene_list
    from spatial_r1_eval.generation.video import parse_video_size

    selection = from_flags(FilterConfig, args)
    config = from_flags(GeneratorConfig, args)
    report = generate(
        args.scannet,
        args.out,
        scenes=args.scenes,
        tasks=args.tasks,
        seed=selection.seed,
        workers=args.workers,
        max_per_task=selection.max_per_task,
        exclude_scenes=load_scene_list(args.exclude_scenes) if args.exclude_scenes else None,
        videos=not args.no_videos,
        per_scene_cap=selection.per_scene_cap,
        config=config,
        ray_address=args.ray,
        progress=not args.no_progress,
        video_size=parse_video_size(args.video_size),
        deterministic_video=args.deterministic_video,
    )
    sys.stdout.write(format_report(report) + "\n")
    sys.stdout.write(f"wrote {args.out}/sr.jsonl, sr_train.jsonl, sr.parquet, report.json\n")
    return 1 if report["scenes"]["failed"] and not report["scenes"]["ok"] else 0
