"""Benchmark: seconds per scene for all SR tasks (video export excluded) and scaling with workers.

Run: ``.venv/bin/python benchmarks/generation.py [--scannet ../shared/data/scannet] [--workers 1 2]``.
Prints the per-scene generation time on the real scene0000_00 (when present) and on a synthetic ~150k-point
scene, and the wall time of a multi-scene run with 1..N worker processes (speed-up vs 1 worker, same run).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spatial_r1_eval.generation.generators import generate_scene
from spatial_r1_eval.generation.pipeline import generate
from spatial_r1_eval.generation.scannet_scene import load_scene
from spatial_r1_eval.generation.synth import write_synthetic_scenes

REPO = Path(__file__).resolve().parents[1]


def time_scene(scene_dir: Path, repeats: int = 3) -> tuple[float, float, int]:
    """(load seconds, generation seconds for all tasks, candidates) — best of ``repeats``."""
    best_load = best_gen = float("inf")
    n = 0
    for _ in range(repeats):
        t = time.perf_counter()
        scene = load_scene(scene_dir)
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        cands, _ = generate_scene(scene)
        best_gen = min(best_gen, time.perf_counter() - t)
        best_load = min(best_load, t_load)
        n = len(cands)
    return best_load, best_gen, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scannet", default=str(REPO.parent / "shared" / "data" / "scannet"))
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--scenes", type=int, default=4, help="synthetic scenes for the scaling run")
    args = ap.parse_args()
    rows = []
    real = Path(args.scannet) / "scans" / "scene0000_00"
    if real.is_dir():
        rows.append(("scene0000_00 (81k points, no frames)", *time_scene(real)))
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big"
        write_synthetic_scenes(big, 1, 0, n_points=150_000, n_frames=300, width=320, height=240)
        rows.append(("synthetic 150k points, 300 frames", *time_scene(next((big / "scans").iterdir()))))
        print(f"{'scene':<40} {'load s':>8} {'generate s':>11} {'candidates':>11}")
        for name, t_load, t_gen, n in rows:
            print(f"{name:<40} {t_load:>8.3f} {t_gen:>11.3f} {n:>11}")
        many = Path(tmp) / "many"
        write_synthetic_scenes(many, args.scenes, 1, n_points=50_000, n_frames=300, width=320, height=240)
        base = None
        header = f"\n{'workers':>7} {'wall s':>8} {'s/scene':>8} {'speed-up':>9}"
        print(f"{header}   ({args.scenes} synthetic scenes, no video)")
        for w in args.workers:
            t = time.perf_counter()
            generate(many, Path(tmp) / f"out{w}", workers=w, videos=False, progress=False)
            wall = time.perf_counter() - t
            base = base or wall
            print(f"{w:>7} {wall:>8.2f} {wall / args.scenes:>8.2f} {base / wall:>8.2f}x")


if __name__ == "__main__":
    main()
