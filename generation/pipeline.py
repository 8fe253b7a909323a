"""The SR generation pipeline: ScanNet root -> per-scene candidates (parallel, cached) -> filters -> exports.

``generate(scannet_root, out_dir, ...)`` writes into ``out_dir``:

- ``sr.jsonl`` — VSI-Bench-compatible records (``"video": "scannet/<scene>.mp4"`` relative to ``out_dir/videos``);
- ``sr_train.jsonl`` — training rows (``"path": "videos/scannet/<scene>.mp4"`` relative to ``out_dir``);
- ``sr.parquet`` — the records as Parquet;
- ``videos/scannet/<scene>.mp4`` — the RGB stream at 24 fps, fitted into ``video_size`` (default 640x480, VSI-Bench's;
  aspect kept, even dimensions), scenes with frames only; each record's ``meta`` has its ``video_width``,
  ``video_height`` and ``video_fps``;
- ``report.json`` — counts, answer histograms, rejections by reason, failed/excluded/frameless scenes, video settings.

Each scene is one job (process pool over scenes, or a Ray cluster with ``ray_address``). A finished scene's
candidates are cached in ``out_dir/.cache/<scene>.json`` (keyed by the settings), so an interrupted run resumes
where it stopped; a scene whose data is bad is reported in ``report.json`` and skipped, the others go on. Every
random choice is seeded per (scene, task), so the same inputs and seed give byte-identical files whatever the
number of workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from spatial_r1_eval.files import read_json, write_json
from spatial_r1_eval.generation.config import FilterConfig, GeneratorConfig
from spatial_r1_eval.generation.filters import build_report, select
from spatial_r1_eval.generation.generators import Candidate, generate_scene, resolve_tasks
from spatial_r1_eval.generation.video import DEFAULT_VIDEO_SIZE, VIDEO_FPS

logger = logging.getLogger(__name__)

#: Bump when generator semantics change, so caches of an older version are recomputed, not reused.
CACHE_VERSION = 2


def list_scenes(scannet_root: str | os.PathLike[str]) -> list[str]:
    """Scene folder names under ``ROOT/scans`` (sorted)."""
    scans = Path(scannet_root) / "scans"
    if not scans.is_dir():
        raise FileNotFoundError(f"{scans}: no such folder (expected the ScanNet layout ROOT/scans/<scene>/)")
    return sorted(p.name for p in scans.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_scene_list(path: str | os.PathLike[str]) -> list[str]:
    """Scene names from a text file, one per line (``scannetv2_val.txt``); blank lines and ``#`` comments ignored."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such scene list file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not a UTF-8 text file of scene names") from None
    return [s for line in text.splitlines() if (s := line.split("#")[0].strip())]


def _job_key(
    tasks: Sequence[str], seed: int, config: GeneratorConfig, videos: bool, video: dict[str, Any] | None
) -> str:
    blob = json.dumps([CACHE_VERSION, list(tasks), int(seed), asdict(config), bool(videos), video], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()


@dataclass(frozen=True)
class SceneJob:
    """One scene's job: what :func:`process_scene` needs (plain, picklable values for the process pool and Ray).

    Attributes:
        scene_dir: The scene folder (``ROOT/scans/<scene>``).
        out_dir: The output folder (videos and ``.cache/<scene>.json`` go there).
        tasks: Task names, in generation order (:func:`~spatial_r1_eval.generation.generators.resolve_tasks`).
        seed: Seed of every random choice.
        config: Generator settings.
        videos: Export the scene's video (scenes with frames only).
        key: Cache key of the settings (a cached result is reused only under the same key).
        video_size: Box the video fits in, or ``None`` for the stream's size.
        deterministic_video: x264 without SIMD kernels (same bytes on any machine).
    """

    scene_dir: str
    out_dir: str
    tasks: tuple[str, ...]
    seed: int
    config: GeneratorConfig
    videos: bool
    key: str
    video_size: tuple[int, int] | None = DEFAULT_VIDEO_SIZE
    deterministic_video: bool = False


def process_scene(job: SceneJob) -> dict[str, Any]:
    """One scene's job: load, generate candidates, export its video; result cached in ``.cache/<scene>.json``.

    Bad data never raises: the error (one line) is returned and the scene is skipped by the caller.
    """
    name = Path(job.scene_dir).name
    result: dict[str, Any] = {"key": job.key, "scene": name}
    try:
        from spatial_r1_eval.generation.scannet_scene import load_scene

        scene = load_scene(job.scene_dir)
        cands, rej = generate_scene(scene, job.tasks, job.config, job.seed)
        result["candidates"] = [c.to_dict() for c in cands]
        result["rejections"] = [[qt, reason, n] for (qt, reason), n in sorted(rej.items())]
        result["has_frames"] = bool(scene.frames)
        result["video"] = None
        if job.videos and scene.frames:
            from spatial_r1_eval.generation.video import export_scene_video

            video_path = Path(job.out_dir) / "videos" / scene.dataset / f"{name}.mp4"
            info = export_scene_video(scene, video_path, size=job.video_size, deterministic=job.deterministic_video)
            result["video"] = f"{scene.dataset}/{name}.mp4"
            result["video_info"] = {"width": info.width, "height": info.height, "fps": info.fps}
    except Exception as e:  # noqa: BLE001 — one scene's bad data is reported and skipped, the others go on
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        return {"key": job.key, "scene": name, "error": f"{type(e).__name__}: {msg}"}
    write_json(Path(job.out_dir) / ".cache" / f"{name}.json", result, indent=None)
    return result


def _run_local(jobs: list[SceneJob], workers: int, progress: bool) -> Iterable[dict[str, Any]]:
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc="generate", unit="scene", disable=not progress)
    try:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield process_scene(job)
                bar.update()
        else:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
                for res in pool.imap_unordered(process_scene, jobs):
                    yield res
                    bar.update()
    finally:
        bar.close()


def _run_ray(jobs: list[SceneJob], address: str, progress: bool) -> Iterable[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise ValueError("--ray needs the 'ray' package: pip install 'spatial-r1-eval[ray]'") from None
    from tqdm import tqdm

    started_here = not ray.is_initialized()
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    try:
        remote = ray.remote(process_scene)
        pending = [remote.remote(job) for job in jobs]
        with tqdm(total=len(jobs), desc="generate (ray)", unit="scene", disable=not progress) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield ray.get(done[0])
                bar.update()
    finally:
        if started_here:
            ray.shutdown()


def _choose_scenes(
    scannet_root: str | os.PathLike[str],
    scenes: Sequence[str] | None,
    exclude_scenes: str | os.PathLike[str] | Iterable[str] | None,
) -> tuple[list[str], list[str]]:
    """(scenes to process, sorted; the chosen scenes that ``exclude_scenes`` removed)."""
    available = list_scenes(scannet_root)
    if scenes:
        missing = sorted(set(scenes) - set(available))
        if missing:
            raise FileNotFoundError(f"{Path(scannet_root) / 'scans'}: no scene folder {missing[0]!r}")
        chosen = sorted(set(scenes))
    else:
        chosen = available
    if exclude_scenes is None:
        excluded: set[str] = set()
    elif isinstance(exclude_scenes, (str, os.PathLike)):
        excluded = set(read_scene_list(exclude_scenes))
    else:
        excluded = set(exclude_scenes)
    return [s for s in chosen if s not in excluded], sorted(set(chosen) & excluded)


def _cached(out: Path, name: str, key: str) -> dict[str, Any] | None:
    """The cached result of a scene when it was made with the same settings (and its video is still there)."""
    cache = out / ".cache" / f"{name}.json"
    if not cache.is_file():
        return None
    try:
        cached = read_json(cache)
    except ValueError:
        return None
    if (
        isinstance(cached, dict)
        and cached.get("key") == key
        and "candidates" in cached
        and (not cached.get("video") or (out / "videos" / cached["video"]).is_file())  # deleted mp4: redo
    ):
        return cached
    return None


def _collect(results: dict[str, dict[str, Any]]) -> tuple[dict[str, list[Candidate]], Counter]:
    """The candidates of every scene that succeeded (by name) and the rejections summed over scenes."""
    scene_cands: dict[str, list[Candidate]] = {}
    rejections: Counter = Counter()
    for name in sorted(results):
        r = results[name]
        if "error" in r:
            continue
        scene_cands[name] = [Candidate.from_dict(d) for d in r["candidates"]]
        for qt, reason, n in r["rejections"]:
            rejections[(qt, reason)] += int(n)
    return scene_cands, rejections


def _add_video_meta(records: list[dict[str, Any]], results: dict[str, dict[str, Any]]) -> None:
    """Each record's ``meta`` gets its video's ``video_width``, ``video_height`` and ``video_fps`` (sorted keys)."""
    for rec in records:
        info = results[rec["scene_name"]].get("video_info")
        if info:
            rec["meta"] = dict(sorted({**rec["meta"], **{f"video_{k}": v for k, v in info.items()}}.items()))


def _video_settings(
    results: dict[str, dict[str, Any]], video_size: tuple[int, int] | None, deterministic: bool
) -> dict[str, Any]:
    sizes = Counter(f"{i['width']}x{i['height']}" for r in results.values() if (i := r.get("video_info")))
    return {
        "size": "x".join(map(str, video_size)) if video_size else "native",
        "fps": VIDEO_FPS,
        "deterministic": bool(deterministic),
        "sizes": dict(sorted(sizes.items())),
    }


def generate(
    scannet_root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    scenes: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    seed: int = 0,
    workers: int = 1,
    max_per_task: int | None = None,
    exclude_scenes: str | os.PathLike[str] | Iterable[str] | None = None,
    videos: bool = True,
    per_scene_cap: int = 10,
    config: GeneratorConfig | None = None,
    ray_address: str | None = None,
    progress: bool = True,
    video_size: tuple[int, int] | None = DEFAULT_VIDEO_SIZE,
    deterministic_video: bool = False,
) -> dict[str, Any]:
    """Generate the SR dataset from a ScanNet root into ``out_dir`` (see module docstring); returns the report.

    Args:
        scannet_root: folder with ``scans/<scene>/`` and the label TSV.
        out_dir: output folder (created).
        scenes: scene names to use (default: every folder in ``scans``); a missing name is an error.
        tasks: task names or question types (default: all eight tasks).
        seed: seed of every random choice.
        workers: processes over scenes.
        max_per_task: cap per question type over the whole dataset.
        exclude_scenes: a scene-list file (e.g. ``scannetv2_val.txt``) or names never to use (no test leakage).
        videos: export ``videos/<dataset>/<scene>.mp4`` for scenes with frames.
        per_scene_cap: cap per scene and question type.
        config: generator settings (default: the paper's).
        ray_address: run the per-scene jobs on this Ray cluster (``"auto"``, ``"ray://host:10001"``, ``"local"``).
        progress: show a progress bar.
        video_size: box the videos fit in (aspect kept, even, never enlarged), ``None`` for the stream's size.
        deterministic_video: x264 without SIMD kernels: the same mp4 bytes on any machine (slower); by default
            the bytes are identical on the same machine (``generation/video.py``).
    """
    from spatial_r1_eval.generation.export import export_all

    config = config or GeneratorConfig()
    task_list = resolve_tasks(tasks)
    filt = FilterConfig(per_scene_cap=per_scene_cap, max_per_task=max_per_task, seed=seed)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if video_size is not None and (len(video_size) != 2 or min(video_size) < 2):
        raise ValueError(f"video_size must be (width, height), both >= 2, or None, got {video_size!r}")
    video_size = tuple(video_size) if video_size else None
    video = {"size": list(video_size) if video_size else None, "deterministic": bool(deterministic_video)}
    chosen, excluded_here = _choose_scenes(scannet_root, scenes, exclude_scenes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    key = _job_key(task_list, seed, config, videos, video if videos else None)
    results: dict[str, dict[str, Any]] = {}
    jobs = []
    for name in chosen:
        cached = _cached(out, name, key)
        if cached is not None:
            results[name] = cached
            continue
        scene_dir = str(Path(scannet_root) / "scans" / name)
        jobs.append(
            SceneJob(scene_dir, str(out), tuple(task_list), seed, config, videos, key, video_size, deterministic_video)
        )
    if jobs:
        logger.info("%d scenes to process, %d cached", len(jobs), len(results))
    runner = _run_ray(jobs, ray_address, progress) if ray_address else _run_local(jobs, workers, progress)
    for res in runner:
        results[res["scene"]] = res
    scene_cands, rejections = _collect(results)
    records, filter_rej = select(scene_cands, filt)
    _add_video_meta(records, results)
    rejections.update(filter_rej)
    scene_info = {
        "ok": len(scene_cands),
        "failed": {n: r["error"] for n, r in results.items() if "error" in r},
        "excluded": excluded_here,
        "without_frames": sorted(n for n, r in results.items() if "error" not in r and not r.get("has_frames")),
        "videos": videos,
    }
    report = build_report(records, rejections, scene_info)
    report["settings"] = {"tasks": task_list, "seed": seed, "per_scene_cap": per_scene_cap}
    report["settings"].update({"max_per_task": max_per_task, "generator": asdict(config)})
    report["settings"]["video"] = _video_settings(results, video_size, deterministic_video)
    report["files"] = export_all(out, records)
    write_json(out / "report.json", report)
    return report
