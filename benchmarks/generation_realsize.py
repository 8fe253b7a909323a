"""Benchmark: SR generation of one real-size scan (1296x968 colour), today's video path vs the new default.

Run: ``.venv/bin/python benchmarks/generation_realsize.py [--frames 600] [--workers 1 2]``
(``--frames 5578`` = scene0000_00's stream; ``--frames 1650`` = the ScanNet mean).

Builds (once, cached in ``--cache``) a synthetic ScanNet scene of real stream size (``spatial-r1 synth``
``--width 1296 --height 968 --points 150000``), then, each in a fresh process (peak RSS = that process's):

- ``reference``: a plain full-size Pillow decode of every colour JPEG of the stream (what any reader pays);
- ``old``: ``--video-size native --deterministic-video`` (full-size decode, x264 without SIMD);
- ``new``: the default (``--video-size 640x480``: JPEG decoded at 1/2 DCT scale, scaled to 640x478 in the
  colour conversion, x264 with SIMD).

Per stage (load, generators, label images, decode, encode = colour conversion + scaling + x264 + mux) it prints
wall and CPU seconds, frames/s of the video stages, peak RSS, the speed-up, the ratio to the reference, and the
projection to ScanNet (1 513 scans x 1 650 frames) in CPU-hours (CPU seconds per stream frame x 2 496 450).
``--workers`` also times ``generate`` on copies of the scene with 1..N worker processes. On a shared machine wall
times vary: compare the ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

SCANNET_FRAMES = 1513 * 1650  # ScanNet v2: 1 513 scans, ~1 650 frames each (~2.5 M)
PATHS = {
    "old": {"size": None, "deterministic": True},  # today's path: native size, x264 asm=0
    "new": {"size": (640, 480), "deterministic": False},  # the default
}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class _Clock:
    """Wall and CPU seconds per stage, in this process."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def add(self, stage: str, wall: float, cpu: float) -> None:
        self.wall[stage] = self.wall.get(stage, 0.0) + wall
        self.cpu[stage] = self.cpu.get(stage, 0.0) + cpu


def run_reference(scene_dir: str) -> dict[str, Any]:
    """Plain full-size decode of every colour JPEG of the stream (no resize, no encode)."""
    import io

    import numpy as np
    from PIL import Image

    from spatial_r1_eval.generation.sens import SensReader

    reader = SensReader(Path(scene_dir) / f"{Path(scene_dir).name}.sens")
    t, c = time.perf_counter(), _cpu()
    for info in reader.frames:
        with Image.open(io.BytesIO(reader._read_bytes(info.color_offset, info.color_size))) as im:
            np.asarray(im.convert("RGB"))
    clock = _Clock()
    clock.add("decode", time.perf_counter() - t, _cpu() - c)
    return {"wall": clock.wall, "cpu": clock.cpu, "rss_mb": _peak_rss_mb(), "stream_frames": len(reader.frames)}


def run_path(scene_dir: str, size: tuple[int, int] | None, deterministic: bool, out: str) -> dict[str, Any]:
    """One scene through ``generate``'s stages (as ``pipeline.process_scene`` runs them), timed per stage."""
    from spatial_r1_eval.generation.generators import TASKS, generate_scene
    from spatial_r1_eval.generation.scannet_scene import load_scene
    from spatial_r1_eval.generation.video import export_scene_video

    clock = _Clock()
    t, c = time.perf_counter(), _cpu()
    scene = load_scene(scene_dir)
    clock.add("load", time.perf_counter() - t, _cpu() - c)
    t, c = time.perf_counter(), _cpu()
    generate_scene(scene, [name for name in TASKS if name != "obj_appearance_order"])
    clock.add("generators", time.perf_counter() - t, _cpu() - c)
    t, c = time.perf_counter(), _cpu()
    generate_scene(scene, ["obj_appearance_order"])
    clock.add("label images", time.perf_counter() - t, _cpu() - c)

    def timed(load):
        def run(*args):
            t, c = time.perf_counter(), _cpu()
            img = load(*args)
            clock.add("decode", time.perf_counter() - t, _cpu() - c)
            return img

        return run if load is not None else None

    scene.frames = [
        dataclasses.replace(f, load_color=timed(f.load_color), load_color_reduced=timed(f.load_color_reduced))
        for f in scene.frames
    ]
    t, c = time.perf_counter(), _cpu()
    info = export_scene_video(scene, Path(out) / f"{scene.name}.mp4", size=size, deterministic=deterministic)
    clock.add("encode", time.perf_counter() - t - clock.wall["decode"], _cpu() - c - clock.cpu["decode"])
    n = info.frames
    stream = len(scene.frames)
    return {"wall": clock.wall, "cpu": clock.cpu, "rss_mb": _peak_rss_mb(), "video_frames": n, "stream_frames": stream}


def run_generate(root: str, out: str, workers: int, size: tuple[int, int] | None, deterministic: bool) -> float:
    from spatial_r1_eval.generation.pipeline import generate

    t = time.perf_counter()
    generate(root, out, workers=workers, progress=False, video_size=size, deterministic_video=deterministic)
    return time.perf_counter() - t


def _in_fresh_process(fn, *args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def build_scene(cache: Path, frames: int, size: tuple[int, int] = (1296, 968), points: int = 150_000) -> Path:
    from spatial_r1_eval.generation.synth import write_synthetic_scenes

    suffix = "" if points == 150_000 else f"_{points}p"
    root = cache / f"realsize_{frames}f_{size[0]}x{size[1]}{suffix}"
    opts = {"n_points": points, "n_frames": frames, "width": size[0], "height": size[1]}
    if not (root / "scans" / "scene9000_00" / "answer_key.json").is_file():
        print(f"building the real-size scene ({frames} frames) in {root} (once)...", flush=True)
    write_synthetic_scenes(root, 1, 0, **opts)  # resumes: a finished scene is kept
    return root


def copies(root: Path, n: int, dest: Path) -> Path:
    """A ScanNet root with ``n`` copies of the scene (symlinked files renamed scene9000_00, scene9001_00, ...)."""
    src = root / "scans" / "scene9000_00"
    for k in range(n):
        name = f"scene{9000 + k}_00"
        d = dest / "scans" / name
        d.mkdir(parents=True, exist_ok=True)
        for f in src.iterdir():
            target = d / f.name.replace("scene9000_00", name)
            if not target.exists():
                target.symlink_to(f.resolve())
    for tsv in root.glob("*.tsv"):
        if not (dest / tsv.name).exists():
            (dest / tsv.name).symlink_to(tsv.resolve())
    return dest


def compare_paths(scene_dir: str, tmp: str, load: float, paths: list[str]) -> None:
    """Reference and the ``paths`` (old, new), each in a fresh process; prints the tables."""
    results = {"reference": _in_fresh_process(run_reference, scene_dir)}
    for name in paths:
        p = PATHS[name]
        results[name] = _in_fresh_process(run_path, scene_dir, p["size"], p["deterministic"], tmp)
    stages = ["load", "generators", "label images", "decode", "encode"]
    ref = results["reference"]
    stream = ref["stream_frames"]
    cores = os.cpu_count()
    name = Path(scene_dir).parents[1].name
    print(f"\nscene: {stream} frames (synthetic, {name}), load average {load:.1f} on {cores} cores\n")
    print(f"{'stage':<14}" + "".join(f"{n + ' wall s':>14}{n + ' cpu s':>13}" for n in paths))
    for s in stages:
        row = f"{s:<14}"
        for n in paths:
            row += f"{results[n]['wall'].get(s, 0):>14.2f}{results[n]['cpu'].get(s, 0):>13.2f}"
        print(row)
    print()
    ref_wall, ref_cpu = sum(ref["wall"].values()), sum(ref["cpu"].values())
    print(f"reference: plain full-size PIL decode of {stream} JPEGs: {ref_wall:.2f} s wall, {ref_cpu:.2f} s cpu")
    tot = {n: (sum(results[n]["wall"].values()), sum(results[n]["cpu"].values())) for n in paths}
    header = f"{'path':<5}{'total wall s':>13}{'total cpu s':>12}{'video fps':>10}{'peak RSS MB':>12}"
    print(header + f"{'cpu x ref':>12}{'CPU-h ScanNet':>14}")
    for n in paths:
        r = results[n]
        video_cpu = r["cpu"]["decode"] + r["cpu"]["encode"]
        fps = r["video_frames"] / video_cpu
        cpu_h = tot[n][1] / stream * SCANNET_FRAMES / 3600
        print(
            f"{n:<5}{tot[n][0]:>13.2f}{tot[n][1]:>12.2f}{fps:>10.1f}{r['rss_mb']:>12.0f}"
            f"{tot[n][1] / ref_cpu:>11.2f}x{cpu_h:>14.1f}"
        )
    if len(paths) == 2:
        cpu_x, wall_x = tot["old"][1] / tot["new"][1], tot["old"][0] / tot["new"][0]
        print(f"speed-up new vs old: {cpu_x:.2f}x cpu, {wall_x:.2f}x wall")
    n_video = results[paths[-1]]["video_frames"]
    print(f"(fps = video frames per CPU second of decode + encode; {n_video} video frames)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600, help="stream frames (5578 = scene0000_00, 1650 = mean)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "spatial-r1-bench")
    ap.add_argument("--workers", type=int, nargs="*", default=[], help="also time `generate` with these workers")
    ap.add_argument("--workers-only", action="store_true", help="only the --workers timing (no old/new stages)")
    ap.add_argument("--image-size", default="1296x968", help="stream size (small: a cheap long-stream RSS check)")
    ap.add_argument("--points", type=int, default=150_000, help="mesh vertices of the synthetic scene")
    ap.add_argument("--paths", nargs="+", default=["old", "new"], choices=list(PATHS), help="paths to time")
    args = ap.parse_args()
    w, _, h = args.image_size.partition("x")
    root = build_scene(args.cache, args.frames, (int(w), int(h)), args.points)
    scene_dir = str(root / "scans" / "scene9000_00")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        if not args.workers_only:
            compare_paths(scene_dir, tmp, load, [p for p in PATHS if p in args.paths])
        if args.workers:
            n_copies = max(args.workers)
            many = copies(root, n_copies, Path(tmp) / "many")
            print(f"\n{'workers':>7} {'wall s':>8} {'s/scene':>8} {'speed-up':>9}   ({n_copies} copies, new default)")
            base = None
            for w in args.workers:
                out = Path(tmp) / f"gen{w}"
                wall = run_generate(str(many), str(out), w, (640, 480), False)  # its workers are fresh processes
                base = base or wall
                print(f"{w:>7} {wall:>8.2f} {wall / n_copies:>8.2f} {base / wall:>8.2f}x")
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
