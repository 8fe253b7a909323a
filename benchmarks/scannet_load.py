"""How fast a ScanNet scan loads (target: scene0000_00 in < 1 s), and how fast synthetic scenes are written.

Prints, measured in this run:
- ``load_scene`` on the real scene0000_00 (first call, then the median of ``--repeat`` calls) with every object;
- the reference: open3d reading the same PLY + ``json`` parsing segs and aggregation (reading only, no
  instance assembly, no boxes), and the ratio;
- optionally (``--synth``) writing one default-size synthetic scene (100 k points, 300 frames, 640x480) and
  loading it.

Usage::

    .venv/bin/python benchmarks/scannet_load.py [--scannet ../shared/data/scannet] [--repeat 5] [--synth]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from spatial_r1_eval.generation.scannet_scene import load_scene, scene_files

REPO = Path(__file__).resolve().parents[1]


def _time(fn, repeat: int) -> tuple[float, float]:
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scannet", type=Path, default=REPO.parent / "shared" / "data" / "scannet")
    parser.add_argument("--scene", default="scene0000_00")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--synth", action="store_true", help="also time writing + loading a default synthetic scene")
    args = parser.parse_args()

    scene_dir = args.scannet / "scans" / args.scene
    if scene_dir.is_dir():
        first, median = _time(lambda: load_scene(scene_dir), args.repeat)
        scene = load_scene(scene_dir)
        print(f"load_scene({args.scene}): first {first:.3f} s, median {median:.3f} s "
              f"({len(scene.points)} points, {len(scene.objects)} objects) -> target < 1 s: "
              f"{'OK' if first < 1.0 else 'MISSED'}")  # fmt: skip

        import open3d as o3d

        files = scene_files(scene_dir)

        def reference() -> None:
            o3d.io.read_triangle_mesh(str(files["ply"]))
            json.loads(files["segs"].read_text())
            json.loads(files["aggregation"].read_text())

        _, ref = _time(reference, args.repeat)
        print(f"reference (open3d PLY read + json segs/aggregation, no assembly): median {ref:.3f} s; "
              f"load_scene / reference = {median / ref:.2f}x")  # fmt: skip
    else:
        print(f"{scene_dir} absent: real-scene timing skipped")

    if args.synth:
        from spatial_r1_eval.generation.synth import write_synthetic_scenes

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            (synth_dir,) = write_synthetic_scenes(tmp, 1, 0)
            written = time.perf_counter() - start
            first, median = _time(lambda: load_scene(synth_dir), args.repeat)
            scene = load_scene(synth_dir)
            print(f"write_synthetic_scenes (1 scene, {len(scene.points)} points, {len(scene.frames)} frames, "
                  f"640x480): {written:.2f} s; load_scene: median {median:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
