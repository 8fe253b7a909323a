"""``spatial-r1 synth``: write synthetic scenes in the exact ScanNet layout (with an analytic answer key).

Example::

    spatial-r1 synth --out /tmp/s --scenes 3 --seed 0
    spatial-r1 synth --out /tmp/small --scenes 2 --seed 1 --points 20000 --frames 60 --width 320 --height 240
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: ``SynthOptions`` field -> its flag, where the flag is not ``--field-name``.
FLAGS = {"n_points": "--points", "n_frames": "--frames"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``spatial-r1 synth``: the run's, then one per :class:`~spatial_r1_eval.generation.synth.SynthOptions`
    field (defaults and help from the dataclass)."""
    from spatial_r1_eval.generation.config_flags import add_dataclass_flags
    from spatial_r1_eval.generation.synth_catalogue import SynthOptions

    parser.add_argument("--out", required=True, type=Path, help="output ScanNet root (scans/<scene>/..., label TSV)")
    parser.add_argument("--scenes", type=int, default=3, help="number of scenes (scene9000_00, scene9001_00, ...)")
    parser.add_argument("--seed", type=int, default=0, help="master seed: same seed -> byte-identical files")
    parser.add_argument("--overwrite", action="store_true", help="rewrite scenes already written with these options")
    add_dataclass_flags(parser.add_argument_group("scene options (SynthOptions)"), SynthOptions, flags=FLAGS)


def run(args: argparse.Namespace) -> int:
    """Write the scenes with a progress bar; prints one line per scene folder and the total."""
    from dataclasses import asdict

    from tqdm import tqdm

    from spatial_r1_eval.generation.config_flags import from_flags
    from spatial_r1_eval.generation.synth import SynthOptions, write_synthetic_scenes

    if args.scenes < 1:
        raise ValueError(f"--scenes must be >= 1, got {args.scenes}")
    options = from_flags(SynthOptions, args, flags=FLAGS)
    if args.out.exists() and not args.out.is_dir():
        raise NotADirectoryError(f"{args.out}: exists and is not a folder")
    with tqdm(total=args.scenes, desc="synth", unit="scene") as bar:
        dirs = write_synthetic_scenes(
            args.out,
            args.scenes,
            args.seed,
            progress=lambda name: bar.update(1),
            overwrite=args.overwrite,
            **asdict(options),
        )
    for d in dirs:
        sys.stdout.write(f"{d}\n")
    tsv = args.out / "scannetv2-labels.combined.tsv"
    sys.stdout.write(f"wrote {len(dirs)} synthetic scene(s) under {args.out} (label TSV: {tsv})\n")
    return 0
