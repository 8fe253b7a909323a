"""Benchmark: our alpha-shape area vs the ``alphashape`` package on the same points (VSI-Bench room size setting).

Run: ``.venv/bin/python benchmarks/alpha_shape.py`` — prints both areas, their relative difference and the speed ratio.
"""

from __future__ import annotations

import time

import alphashape
import numpy as np

from spatial_r1_eval.generation.alpha_shape import alpha_shape_area


def _room_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """An L-shaped 6 m x 5 m room sampled uniformly (x, y only), like VSI-Bench's 10 000 sampled scene points."""
    pts = rng.uniform([0, 0], [6, 5], size=(4 * n, 2))
    pts = pts[(pts[:, 0] < 3.5) | (pts[:, 1] < 2.5)]
    return pts[:n]


def main(repeats: int = 3) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for n in (2_000, 10_000, 30_000):
        pts = _room_points(rng, n)
        ours, ref = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            a = alpha_shape_area(pts, 5.0)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            b = alphashape.alphashape(pts, 5.0).area
            ref.append(time.perf_counter() - t)
        rows.append((n, a, b, abs(a - b) / b, min(ours), min(ref), min(ref) / min(ours)))
    header = ("points", "ours m2", "alphashape m2", "rel diff", "ours s", "pkg s", "speed-up")
    print("{:>7} {:>10} {:>14} {:>9} {:>8} {:>8} {:>9}".format(*header))
    for n, a, b, rel, t1, t2, ratio in rows:
        print(f"{n:>7} {a:>10.4f} {b:>14.4f} {rel:>9.1e} {t1:>8.4f} {t2:>8.4f} {ratio:>8.1f}x")


if __name__ == "__main__":
    main()
