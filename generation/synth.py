"""Synthetic scenes in the exact ScanNet v2 layout, with an analytic answer key.

``write_synthetic_scenes(out_dir, n_scenes, seed)`` turns ``out_dir`` into a valid ScanNet root::

    out_dir/scannetv2-labels.combined.tsv           the real v2 TSV rows (all columns) of the categories used
    out_dir/scans/scene9XXX_00/
        scene9XXX_00_vh_clean_2.ply                 points on the floor, walls and furniture boxes (raw frame),
                                                    triangulated (each planar patch is a regular grid)
        scene9XXX_00_vh_clean_2.labels.ply          the same + ``label`` (ScanNet label id, TSV ``id``)
        scene9XXX_00_vh_clean_2.0.010000.segs.json  one segment per patch (id = its first vertex index)
        scene9XXX_00.aggregation.json               one segGroup per wall, the floor, and each furniture item
        scene9XXX_00.txt                            sensor info + ``axisAlignment`` (random yaw + translation)
        scene9XXX_00.sens                           camera walking a loop through the room: JPEG colour +
                                                    zlib depth (mm), 30 fps, poses in the raw frame
        scene9XXX_00_2d-label-filt.zip              ``label-filt/<frame>.png`` 16-bit label ids per frame
        scene9XXX_00_2d-instance-filt.zip           ``instance-filt/<frame>.png`` 8-bit ``objectId + 1``
        answer_key.json                             the analytic ground truth (written last; see below)

The scene is built in the aligned frame (floor at z = 0, room inside x, y >= 0) and stored in the raw frame
``raw = inv(axisAlignment) @ aligned``, so :func:`~spatial_r1_eval.generation.scannet_scene.load_scene`
must apply the alignment to recover it. Rooms are rectangles or L-shapes, 2.5-3.0 m high. Furniture items
are boxes with real-world sizes (whole centimetres) standing on the floor, without overlap; tall ones
(over 1.2 m), doors and windows stand against walls. Chairs may have any yaw, the rest are at 0/90/180/270 deg.

Rendering is ray casting in NumPy (walls/floor/ceiling + the furniture boxes), so the colour, depth and
label images are exact and consistent with the geometry.

The parts: :mod:`~spatial_r1_eval.generation.synth_catalogue` (options, label rows, furniture catalogue, colours),
:mod:`~spatial_r1_eval.generation.synth_layout` (room and furniture placement), :mod:`~spatial_r1_eval.generation.
synth_mesh` (surfaces and mesh), :mod:`~spatial_r1_eval.generation.synth_render` (camera path and ray caster),
:mod:`~spatial_r1_eval.generation.synth_routes` (route answer key); this module writes the files.

``answer_key.json`` (sorted keys; lengths in metres, areas in m^2)::

    scene, seed, generator ("spatial_r1_eval.generation.synth/2"), options {n_points, n_frames, width, height, ...}
    room: {shape: "rectangle"|"L", floor_polygon: [[x, y], ...] (aligned frame, counter-clockwise),
           floor_area_m2, height_m}
    axis_alignment: 16 floats (row-major, as in the .txt)
    objects: [{object_id, label, structural, aabb: {min, max}, obb: {centroid, axesLengths, normalizedAxes},
               yaw_deg, aabb_longest_m, obb_longest_m, size_cm (= round(100 * aabb_longest_m)),
               obb_size_cm (= round(100 * obb_longest_m))}]  one per segGroup, same order and objectId
    counts: {category: number of instances} (non-structural categories only)
    distances: [{a, b, a_label, b_label, aabb_distance_m}] every pair of non-structural objects (a < b by id),
               the exact minimum distance between their axis-aligned boxes
    route_legs: [{a, b, a_label, b_label, length_m, clearance_m}] every pair of furniture items with a unique label
               (a < b by id): centre distance, and the exact clearance of the leg between the centres outside the
               two items' own rectangles to every other rectangle and the room's outside (null: none outside)
               (:mod:`~spatial_r1_eval.generation.synth_routes`)
    frames: {n_frames, fps, width, height, intrinsics (3x3), invalid_pose_frames: [stream indices]}
    appearance: {min_pixels, first_frame: {category: stream index}, first_seconds: {category: index / fps},
                 first_frame_any_pixel: {category: index}} over valid-pose frames, from the label-filt images
                 (a category is seen in a frame when it covers >= min_pixels pixels)
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from spatial_r1_eval.files import atomic_open, write_json
from spatial_r1_eval.generation import scannet_io
from spatial_r1_eval.generation.boxes import aabb_distance_between
from spatial_r1_eval.generation.label_images import encode_png, write_label_zip
from spatial_r1_eval.generation.scene import STRUCTURAL_LABELS, AxisAlignedBox
from spatial_r1_eval.generation.sens import write_sens
from spatial_r1_eval.generation.synth_catalogue import (
    CATALOGUE,
    PALETTE,
    TSV_ROWS,
    FurnitureSpec,
    PathLike,
    SynthOptions,
    label_ids,
    write_label_tsv,
)
from spatial_r1_eval.generation.synth_layout import FurnitureBox, Room, canonical_obb, make_room, place_furniture
from spatial_r1_eval.generation.synth_mesh import Mesh, Surface, build_mesh, scene_surfaces
from spatial_r1_eval.generation.synth_render import Renderer, camera_path
from spatial_r1_eval.generation.synth_routes import route_legs

__all__ = [
    "CATALOGUE",
    "FIRST_SCENE_NUMBER",
    "FPS",
    "GENERATOR",
    "PALETTE",
    "TSV_ROWS",
    "FurnitureSpec",
    "SynthOptions",
    "label_ids",
    "write_label_tsv",
    "write_synthetic_scene",
    "write_synthetic_scenes",
]

logger = logging.getLogger(__name__)

GENERATOR = "spatial_r1_eval.generation.synth/2"
FPS = 30.0
#: first scene number: synthetic scenes are scene9000_00, scene9001_00, ... (outside ScanNet's 0000-0806)
FIRST_SCENE_NUMBER = 9000


def _alignment(rng: np.random.Generator) -> np.ndarray:
    """A random axisAlignment (yaw + translation), rounded as it is written to the .txt (6 decimals)."""
    theta = float(rng.uniform(0, 2 * math.pi))
    c, s = math.cos(theta), math.sin(theta)
    m = np.array([[c, -s, 0, rng.uniform(-3, 3)], [s, c, 0, rng.uniform(-3, 3)], [0, 0, 1, rng.uniform(-0.2, 0.2)]])
    a = np.eye(4)
    a[:3] = m
    return np.array([float(f"{v:.6f}") for v in a.reshape(-1)]).reshape(4, 4)


def _fmt(values: np.ndarray) -> str:
    return " ".join(f"{float(v):.6f}" for v in np.asarray(values).reshape(-1))


def _scene_txt(alignment: np.ndarray, opts: SynthOptions, k: np.ndarray, scene_type: str) -> str:
    lines = {
        "axisAlignment": _fmt(alignment),
        "colorHeight": str(opts.height),
        "colorToDepthExtrinsics": _fmt(np.eye(4)),
        "colorWidth": str(opts.width),
        "depthHeight": str(opts.height),
        "depthWidth": str(opts.width),
        "fx_color": f"{k[0, 0]:.6f}",
        "fx_depth": f"{k[0, 0]:.6f}",
        "fy_color": f"{k[1, 1]:.6f}",
        "fy_depth": f"{k[1, 1]:.6f}",
        "mx_color": f"{k[0, 2]:.6f}",
        "mx_depth": f"{k[0, 2]:.6f}",
        "my_color": f"{k[1, 2]:.6f}",
        "my_depth": f"{k[1, 2]:.6f}",
        "numColorFrames": str(opts.n_frames),
        "numDepthFrames": str(opts.n_frames),
        "numIMUmeasurements": "0",
        "sceneType": scene_type,
    }
    return "".join(f"{key} = {value}\n" for key, value in lines.items())


def _round(values, nd: int = 6) -> list[float]:
    return [round(float(v), nd) for v in np.asarray(values).reshape(-1)]


def write_synthetic_scene(out_dir: PathLike, scene_name: str, seed: int, options: SynthOptions | None = None) -> Path:
    """Write one synthetic scene folder ``out_dir/scans/<scene_name>/`` (module docstring); returns it.

    The steps draw from one generator in a fixed order (room, furniture, alignment, colours, camera path, invalid
    poses), so the same seed gives the same bytes.
    """
    opts = options or SynthOptions()
    rng = np.random.default_rng(np.random.SeedSequence([seed, int(scene_name[5:9]), int(scene_name[10:12])]))
    scene_dir = Path(out_dir) / "scans" / scene_name
    prefix = scene_dir / scene_name
    ids = label_ids()
    room = make_room(rng)
    boxes = place_furniture(rng, room)
    alignment = _alignment(rng)
    surfaces = scene_surfaces(room, boxes, rng)  # floor (0), walls (1..), then furniture in placement order
    _write_mesh(prefix, scene_name, build_mesh(surfaces, ids, opts.n_points), np.linalg.inv(alignment))
    stream = _write_stream(prefix, room, boxes, surfaces, ids, alignment, opts, rng)
    key = _answer_key(scene_name, seed, opts, room, boxes, surfaces, alignment, stream)
    write_json(scene_dir / "answer_key.json", key)
    return scene_dir


def _write_mesh(prefix: Path, scene_name: str, mesh: Mesh, raw_from_aligned: np.ndarray) -> None:
    """The two PLYs (raw frame), the segments and the aggregation of a scene."""
    raw_pts = mesh.points @ raw_from_aligned[:3, :3].T + raw_from_aligned[:3, 3]
    colors, faces = mesh.colors, mesh.faces
    scannet_io.write_ply(f"{prefix}_vh_clean_2.ply", raw_pts, colors=colors, faces=faces)
    scannet_io.write_ply(f"{prefix}_vh_clean_2.labels.ply", raw_pts, colors=colors, faces=faces, labels=mesh.labels)
    scannet_io.write_segs(f"{prefix}_vh_clean_2.0.010000.segs.json", scene_name, mesh.segments)
    scannet_io.write_aggregation(f"{prefix}.aggregation.json", scene_name, mesh.groups)


def _write_stream(
    prefix: Path,
    room: Room,
    boxes: list[FurnitureBox],
    surfaces: list[Surface],
    ids: dict[str, int],
    alignment: np.ndarray,
    opts: SynthOptions,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """The ``.txt``, the ``.sens`` stream and the label / instance zips; returns what the answer key needs of them
    (``intrinsics``, ``invalid`` frames, ``first_frame`` / ``first_any`` sightings per category)."""
    fx = 0.9 * opts.width
    k = np.array([[fx, 0, (opts.width - 1) / 2], [0, fx, (opts.height - 1) / 2], [0, 0, 1.0]])
    scene_type = "Bedroom / Hotel" if any(b.label == "bed" for b in boxes) else "Living room / Lounge"
    with atomic_open(f"{prefix}.txt") as f:
        f.write(_scene_txt(alignment, opts, k, scene_type))
    raw_from_aligned = np.linalg.inv(alignment)
    poses = camera_path(room, opts.n_frames, rng)
    invalid = sorted(int(i) for i in rng.choice(np.arange(1, opts.n_frames), opts.invalid_poses, replace=False))
    n_walls = len(room.polygon())
    renderer = Renderer(room, boxes, [s.object_id for s in surfaces[1 + n_walls:]],
                        {"floor": 0, "walls": [s.object_id for s in surfaces[1:1 + n_walls]]}, ids,
                        {s.object_id: s.color for s in surfaces}, k, opts.width, opts.height)  # fmt: skip
    label_pngs: list[tuple[int, bytes]] = []
    instance_pngs: list[tuple[int, bytes]] = []
    id_to_cat = {v: c for c, v in ids.items()}
    first_frame: dict[str, int] = {}
    first_any: dict[str, int] = {}

    def frames() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for i, pose in enumerate(poses):
            color, depth, label_img, inst_img = renderer.render(pose)
            label_pngs.append((i, encode_png(label_img, 16)))
            instance_pngs.append((i, encode_png(inst_img, 8)))
            raw_pose = raw_from_aligned @ pose
            if i in invalid:
                raw_pose = np.full((4, 4), -np.inf)
            else:
                counts = np.bincount(label_img.reshape(-1))
                for lid in np.nonzero(counts)[0]:
                    cat = id_to_cat[int(lid)]
                    first_any.setdefault(cat, i)
                    if counts[lid] >= opts.min_pixels:
                        first_frame.setdefault(cat, i)
            yield raw_pose, color, depth

    write_sens(f"{prefix}.sens", frames(), num_frames=opts.n_frames, intrinsics=k, fps=FPS,
               jpeg_quality=opts.jpeg_quality)  # fmt: skip
    write_label_zip(f"{prefix}_2d-label-filt.zip", "label-filt", label_pngs, bits=16)
    write_label_zip(f"{prefix}_2d-instance-filt.zip", "instance-filt", instance_pngs, bits=8)
    return {"intrinsics": k, "invalid": invalid, "first_frame": first_frame, "first_any": first_any}


def _object_entries(room: Room, boxes: list[FurnitureBox], surfaces: list[Surface]) -> tuple[list[dict], dict]:
    """Answer-key ``objects`` (one per segGroup, same order and objectId) and their axis-aligned boxes by id."""
    poly = room.polygon()
    walls = [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
    objects = []
    aabbs: dict[int, AxisAlignedBox] = {}
    for s in surfaces:
        if s.object_id == 0:
            rects = room.floor_rects()
            lo = np.array([min(r[0] for r in rects), min(r[1] for r in rects), 0.0])
            hi = np.array([max(r[2] for r in rects), max(r[3] for r in rects), 0.0])
            center, size, yaw = (lo + hi) / 2, hi - lo, 0.0
        elif s.object_id <= len(walls):
            a, b = walls[s.object_id - 1]
            e = b - a
            center = np.array([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, room.height / 2])
            size, yaw = np.array([np.linalg.norm(e), 0.0, room.height]), math.atan2(e[1], e[0])
        else:
            box = boxes[s.object_id - 1 - len(walls)]
            center, size, yaw = box.center, box.size, box.yaw
        aabb = FurnitureBox(s.label, center, size, yaw).aabb()
        aabbs[s.object_id] = aabb
        obb_axes, obb_lengths = canonical_obb(size, yaw)
        objects.append({
            "object_id": s.object_id,
            "label": s.label,
            "structural": s.label in STRUCTURAL_LABELS,
            "aabb": {"min": _round(aabb.min), "max": _round(aabb.max)},
            "obb": {"centroid": _round(center), "axesLengths": _round(obb_lengths),
                    "normalizedAxes": _round(obb_axes)},
            "yaw_deg": round(math.degrees(yaw) % 360.0, 6),
            "aabb_longest_m": round(float(aabb.size.max()), 6),
            "obb_longest_m": round(float(size.max()), 6),
            "size_cm": int(round(100 * float(aabb.size.max()))),
            "obb_size_cm": int(round(100 * float(size.max()))),
        })  # fmt: skip
    return objects, aabbs


def _answer_key(
    scene_name: str,
    seed: int,
    opts: SynthOptions,
    room: Room,
    boxes: list[FurnitureBox],
    surfaces: list[Surface],
    alignment: np.ndarray,
    stream: dict[str, Any],
) -> dict[str, Any]:
    """The analytic ground truth ``answer_key.json`` (module docstring)."""
    objects, aabbs = _object_entries(room, boxes, surfaces)
    poly = room.polygon()
    furniture = [o for o in objects if not o["structural"]]
    counts: dict[str, int] = {}
    for o in furniture:
        counts[o["label"]] = counts.get(o["label"], 0) + 1
    distances = [
        {"a": a["object_id"], "b": b["object_id"], "a_label": a["label"], "b_label": b["label"],
         "aabb_distance_m": round(aabb_distance_between(aabbs[a["object_id"]], aabbs[b["object_id"]]), 6)}
        for i, a in enumerate(furniture) for b in furniture[i + 1:]
    ]  # fmt: skip
    route_items = [
        {"object_id": s.object_id, "label": s.label, "centre": box.center[:2],
         "footprint": box.corners()[::2, :2]}  # the 4 bottom corners: the exact rectangle, no door clearance
        for s, box in zip(surfaces[1 + len(poly):], boxes, strict=True)
    ]  # fmt: skip
    first_frame = stream["first_frame"]
    return {
        "scene": scene_name,
        "seed": seed,
        "generator": GENERATOR,
        "options": asdict(opts),
        "room": {"shape": room.shape, "floor_polygon": [_round(p) for p in poly],
                 "floor_area_m2": round(room.area(), 6), "height_m": room.height},
        "axis_alignment": _round(alignment),
        "objects": objects,
        "counts": counts,
        "distances": distances,
        "route_legs": route_legs(poly, route_items),
        "frames": {"n_frames": opts.n_frames, "fps": FPS, "width": opts.width, "height": opts.height,
                   "intrinsics": [_round(row) for row in stream["intrinsics"]],
                   "invalid_pose_frames": stream["invalid"]},
        "appearance": {"min_pixels": opts.min_pixels, "first_frame": first_frame,
                       "first_seconds": {c: round(i / FPS, 6) for c, i in first_frame.items()},
                       "first_frame_any_pixel": stream["first_any"]},
    }  # fmt: skip


def _answer_key_matches(path: Path, seed: int, opts: SynthOptions) -> bool:
    try:
        key = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return key.get("seed") == seed and key.get("options") == asdict(opts) and key.get("generator") == GENERATOR


def write_synthetic_scenes(
    out_dir: PathLike,
    n_scenes: int,
    seed: int,
    *,
    progress: Callable[[str], None] | None = None,
    overwrite: bool = False,
    **size_options,
) -> list[Path]:
    """Make ``out_dir`` a ScanNet root with ``n_scenes`` synthetic scenes ``scene9000_00``, ``scene9001_00``, ...

    Args:
        out_dir: Output root (created): ``scans/<scene>/...`` and ``scannetv2-labels.combined.tsv``.
        n_scenes: Number of scenes (1..1000).
        seed: Master seed; scene ``i`` uses ``SeedSequence([seed, 9000 + i, 0])``, so the same seed gives
            byte-identical files.
        progress: Called with each scene name after it is written (the CLI advances a tqdm bar with it).
        overwrite: Rewrite scenes whose ``answer_key.json`` (written last) already matches seed and options;
            by default they are kept, so an interrupted run resumes.
        **size_options: Fields of :class:`SynthOptions` (``n_points``, ``n_frames``, ``width``, ``height``,
            ``min_pixels``, ``invalid_poses``, ``jpeg_quality``).

    Returns:
        The scene folders, in order.

    Example:
        >>> import tempfile
        >>> out = tempfile.mkdtemp()
        >>> dirs = write_synthetic_scenes(out, 1, seed=0, n_points=2000, n_frames=3, width=64, height=48)
        >>> dirs[0].name, (dirs[0] / "answer_key.json").is_file(), (dirs[0] / "scene9000_00.sens").is_file()
        ('scene9000_00', True, True)
    """
    if not 1 <= n_scenes <= 1000:
        raise ValueError(f"n_scenes must be in [1, 1000], got {n_scenes}")
    unknown = set(size_options) - set(SynthOptions.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown synthetic scene option(s): {', '.join(sorted(unknown))}")
    opts = SynthOptions(**size_options)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_label_tsv(out / scannet_io.V2_TSV_NAME)
    dirs = []
    for i in range(n_scenes):
        name = f"scene{FIRST_SCENE_NUMBER + i:04d}_00"
        key_path = out / "scans" / name / "answer_key.json"
        if not overwrite and _answer_key_matches(key_path, seed, opts):
            logger.info("%s: already written (answer_key.json matches), skipped", name)
            dirs.append(key_path.parent)
        else:
            if key_path.exists():
                key_path.unlink()
            dirs.append(write_synthetic_scene(out, name, seed, opts))
        if progress is not None:
            progress(name)
    return dirs
