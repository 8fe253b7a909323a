"""Assemble a :class:`~spatial_r1_eval.generation.scene.Scene` from a ScanNet v2 scan folder.

Expected layout (the ScanNet v2 release; ``ROOT`` is the folder you pass as ``--scannet``)::

    ROOT/scannetv2-labels.combined.tsv            label map (or the older scannet-labels.combined.tsv)
    ROOT/scans/<scene>/<scene>_vh_clean_2.ply                     mesh: vertices (+ colours, faces)   required
    ROOT/scans/<scene>/<scene>_vh_clean_2.0.010000.segs.json      segment id per vertex               required
    ROOT/scans/<scene>/<scene>.aggregation.json                   instances (segGroups)               required
    ROOT/scans/<scene>/<scene>.txt                                axisAlignment (absent -> identity)  required
    ROOT/scans/<scene>/<scene>.sens                               RGB-D stream (frames)               optional
    ROOT/scans/<scene>/<scene>_2d-label-filt.zip  or  label-filt/ 2-D label images per frame          optional

Label normalisation: each aggregation label goes through the label TSV (v2: ``raw_category`` ->
``category``; the older TSV: its ``category`` column, labels map to themselves). Labels the TSV does not
list (e.g. ``dishrack``) keep their raw name: they are never dropped. When ``label_map`` is not given, the
TSVs present in ``ROOT`` (= ``scene_dir/../..``) are read and the one that lists more of this scene's
labels is used (ties: v2), so older scans annotated with the older vocabulary (``trashcan``) normalise too.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np

from spatial_r1_eval.generation import scannet_io
from spatial_r1_eval.generation.boxes import aabb_from_points, min_oriented_box
from spatial_r1_eval.generation.label_images import LabelImages
from spatial_r1_eval.generation.scannet_io import LabelMap, SegGroup
from spatial_r1_eval.generation.scene import Frame, Scene, SceneObject
from spatial_r1_eval.generation.sens import SensReader

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
#: Frame rate of ScanNet ``.sens`` streams; frame ``i`` is at ``i / SCANNET_FPS`` seconds.
SCANNET_FPS = 30.0


def scene_files(scene_dir: PathLike) -> dict[str, Path]:
    """Paths of a scan's files by role (``ply``, ``labels_ply``, ``segs``, ``aggregation``, ``txt``, ``sens``).

    Example:
        >>> scene_files("/data/scans/scene0000_00")["segs"].name
        'scene0000_00_vh_clean_2.0.010000.segs.json'
    """
    d = Path(scene_dir)
    n = d.name
    return {
        "ply": d / f"{n}_vh_clean_2.ply",
        "labels_ply": d / f"{n}_vh_clean_2.labels.ply",
        "segs": d / f"{n}_vh_clean_2.0.010000.segs.json",
        "aggregation": d / f"{n}.aggregation.json",
        "txt": d / f"{n}.txt",
        "sens": d / f"{n}.sens",
    }


def resolve_label_map(
    scene_dir: PathLike, label_map: LabelMap | PathLike | None, raw_labels: list[str] | None = None
) -> LabelMap | None:
    """The label map to use for a scene: given object, given TSV path, or the best TSV in ``scene_dir/../..``."""
    if isinstance(label_map, LabelMap):
        return label_map
    if label_map is not None:
        return scannet_io.read_label_map(label_map)
    candidates = [scannet_io.read_label_map(p) for p in scannet_io.find_label_maps(Path(scene_dir).parent.parent)]
    if not candidates:
        logger.warning("%s: no label TSV in the ScanNet root; labels keep their raw names", scene_dir)
        return None
    labels = raw_labels or []
    return max(candidates, key=lambda m: sum(m.knows(label) for label in labels))  # max keeps the first on ties


def _instance_points(
    groups: list[SegGroup], seg_indices: np.ndarray, points: np.ndarray, agg_path: Path, segs_path: Path
) -> list[np.ndarray]:
    """Aligned points of every segGroup (a vertex belongs to a group when its segment is one of the group's).

    One sort of the vertices by group when no segment is shared between groups (the ScanNet norm), else a
    mask per group; points keep their vertex order either way.
    """
    uniq, inverse = np.unique(seg_indices, return_inverse=True)
    seg_group = np.full(len(uniq), -1, dtype=np.int64)
    shared = False
    for k, g in enumerate(groups):
        pos = np.searchsorted(uniq, g.segments)
        present = (pos < len(uniq)) & (uniq[np.minimum(pos, len(uniq) - 1)] == g.segments)
        if not present.all():
            missing = g.segments[~present][:3].tolist()
            raise ValueError(
                f"{agg_path}: segGroup id {g.id} ({g.label!r}) refers to segments {missing} "
                f"absent from {segs_path.name}"
            )
        shared |= bool(np.any((seg_group[pos] != -1) & (seg_group[pos] != k)))
        seg_group[pos] = k
    if shared:
        return [points[np.isin(uniq, g.segments)[inverse]] for g in groups]
    vertex_group = seg_group[inverse]
    order = np.argsort(vertex_group, kind="stable")
    bounds = np.searchsorted(vertex_group[order], np.arange(len(groups) + 1))
    return [points[order[bounds[k] : bounds[k + 1]]] for k in range(len(groups))]


def load_scene(scene_dir: PathLike, label_map: LabelMap | PathLike | None = None, *, frames: bool = True) -> Scene:
    """Read a ScanNet scan folder into an axis-aligned :class:`Scene`.

    Args:
        scene_dir: ``ROOT/scans/<scene>`` (the folder name is the scene id).
        label_map: A :class:`~spatial_r1_eval.generation.scannet_io.LabelMap`, a TSV path, or ``None`` to pick
            the TSV from ``ROOT`` (module docstring).
        frames: Also index the ``.sens`` stream (when present) into lazily decoded frames.

    Returns:
        The scene: ``points`` (all vertices, aligned, metres), ``colors``, one object per segGroup in file order
        (canonical label, instance points, AABB, minimal gravity-aligned oriented box), ``axis_alignment``,
        ``frames`` (valid-pose frames only; ``index`` keeps the stream position, ``timestamp = index / 30``),
        ``label_id_to_category`` from the TSV.

    Raises:
        FileNotFoundError: a required file is missing.
        ValueError: malformed/truncated files, segs vs vertex count mismatch, aggregation segments absent from
            the segs file (messages name the file).
    """
    scene_dir = Path(scene_dir)
    if not scene_dir.is_dir():
        raise FileNotFoundError(f"{scene_dir}: no such scene folder")
    files = scene_files(scene_dir)
    for role in ("ply", "segs", "aggregation", "txt"):
        if not files[role].is_file():
            raise FileNotFoundError(f"{files[role]}: no such file (required ScanNet {role} file)")
    info = scannet_io.read_scene_info(files["txt"])
    alignment = scannet_io.axis_alignment(info, files["txt"])
    mesh = scannet_io.read_ply(files["ply"])
    seg_indices = scannet_io.read_segs(files["segs"])
    if len(seg_indices) != len(mesh.vertices):
        raise ValueError(
            f"{files['segs']}: {len(seg_indices)} segIndices but {files['ply'].name} has {len(mesh.vertices)} vertices"
        )
    groups = scannet_io.read_aggregation(files["aggregation"])
    lmap = resolve_label_map(scene_dir, label_map, [g.label for g in groups])
    points = mesh.vertices @ alignment[:3, :3].T + alignment[:3, 3]
    objects = []
    instance_points = _instance_points(groups, seg_indices, points, files["aggregation"], files["segs"])
    for g, pts in zip(groups, instance_points, strict=True):
        label = lmap.normalize(g.label) if lmap else g.label.strip()
        objects.append(SceneObject(g.object_id, label, g.label, aabb_from_points(pts), min_oriented_box(pts), pts))
    scene = Scene(
        name=scene_dir.name,
        objects=objects,
        points=points,
        colors=mesh.colors,
        axis_alignment=alignment,
        fps=SCANNET_FPS,
        label_id_to_category=dict(lmap.id_to_category) if lmap else {},
    )
    if frames and files["sens"].is_file():
        scene.frames = load_frames(files["sens"], alignment, LabelImages.find(scene_dir, scene_dir.name))
    return scene


def load_frames(sens_path: PathLike, alignment: np.ndarray, labels: LabelImages | None = None) -> list[Frame]:
    """Valid-pose frames of a ``.sens`` stream, poses in the aligned frame, images decoded lazily.

    Frames whose pose has inf/NaN (ScanNet's tracking failures) are skipped; the others keep their stream
    ``index`` and ``timestamp = index / 30`` s. ``load_labels`` is set when ``labels`` has that frame.
    """
    reader = SensReader(sens_path)
    intrinsics = reader.header.intrinsic_color[:3, :3].copy()
    out = []
    skipped = 0
    for f in reader.frames:
        if not np.all(np.isfinite(f.pose)):
            skipped += 1
            continue
        load_labels = functools.partial(labels.read, f.index) if labels is not None and f.index in labels else None
        out.append(
            Frame(
                index=f.index,
                timestamp=f.index / SCANNET_FPS,
                pose=alignment @ f.pose,
                intrinsics=intrinsics,
                load_color=functools.partial(reader.read_color, f.index),
                load_labels=load_labels,
                load_color_reduced=functools.partial(reader.read_color_reduced, f.index),
            )
        )
    if skipped:
        logger.info("%s: skipped %d of %d frames with invalid (inf/NaN) poses", sens_path, skipped, len(reader))
    return out


# ------------------------------------------------------------------------------- `spatial-r1 scene-info`


def add_arguments(parser) -> None:
    """Options of ``spatial-r1 scene-info`` (summarise a ScanNet scan folder as :func:`load_scene` reads it)."""
    parser.add_argument("scene_dir", type=Path, help="ROOT/scans/<scene> folder")
    parser.add_argument("--label-map", type=Path, default=None, help="label TSV (default: the best one in ROOT)")


def run(args) -> int:
    """Load the scene and print a short summary (points, objects per category, frames, label map)."""
    import sys
    import time

    start = time.perf_counter()
    scene = load_scene(args.scene_dir, args.label_map)
    seconds = time.perf_counter() - start
    groups = scene.objects_by_label()
    identity = np.allclose(scene.axis_alignment, np.eye(4))
    out = sys.stdout
    out.write(f"{scene.name}: {len(scene.points)} points, {len(scene.objects)} objects in {len(groups)} categories, ")
    out.write(
        f"{len(scene.frames)} frames, axisAlignment {'identity' if identity else 'set'}, loaded in {seconds:.3f} s\n"
    )
    for label, objs in groups.items():
        out.write(f"  {label}: {len(objs)}\n")
    return 0
