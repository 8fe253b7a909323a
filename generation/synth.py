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
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from spatial_r1_eval.files import atomic_open, write_json
from spatial_r1_eval.generation import scannet_io
from spatial_r1_eval.generation.boxes import aabb_distance_between
from spatial_r1_eval.generation.label_images import encode_png, write_label_zip
from spatial_r1_eval.generation.scannet_io import SegGroup
from spatial_r1_eval.generation.scene import STRUCTURAL_LABELS, AxisAlignedBox
from spatial_r1_eval.generation.sens import write_sens
from spatial_r1_eval.generation.synth_routes import route_legs

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
GENERATOR = "spatial_r1_eval.generation.synth/2"
FPS = 30.0
#: first scene number: synthetic scenes are scene9000_00, scene9001_00, ... (outside ScanNet's 0000-0806)
FIRST_SCENE_NUMBER = 9000

#: rows of ScanNet's scannetv2-labels.combined.tsv (all columns, verbatim) for the categories synthesised here
# fmt: off
TSV_ROWS = (
    'id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class\teigen13class\tModelNet40\tModelNet10\tShapeNetCore55\tsynsetoffset\twnsynsetid\twnsynsetkey\tmpcat40\tmpcat40index',  # noqa: E501
    '1\twall\twall\t8277\t1\t12\twall\twall\tWall\t\t\t\t\tn04546855\twall.n.01\twall\t1',
    '3\tfloor\tfloor\t1553\t2\t5\tfloor\tfloor\tFloor\t\t\t\t\tn03365592\tfloor.n.01\tfloor\t2',
    '41\tceiling\tceiling\t806\t22\t3\tceiling\tceiling\tCeiling\t\t\t\t\tn02990373\tceiling.n.01\tceiling\t17',
    '11\tbed\tbed\t370\t4\t1\tbed\tbed\tBed\tbed\tbed\tbed\t2818832\tn02818832\tbed.n.01\tbed\t11',
    '2\tchair\tchair\t4646\t5\t4\tchair\tchair\tChair\tchair\tchair\tchair\t3001627\tn03001627\tchair.n.01\tchair\t3',
    '4\ttable\ttable\t1170\t7\t10\ttable\ttable\tTable\ttable\ttable\ttable\t4379243\tn04379243\ttable.n.02\ttable\t5',
    '1313\tsofa\tsofa\t1\t6\t9\tsofa\tsofa\tSofa\tsofa\tsofa\tsofa\t4256520\tn04256520\tsofa.n.01\tsofa\t10',
    '9\tdesk\tdesk\t680\t14\t10\tdesk\tdesk\tTable\tdesk\tdesk\ttable\t4379243\tn03179701\tdesk.n.01\ttable\t5',
    '34\tnightstand\tnightstand\t224\t32\t6\tnight stand\tnight stand\tFurniture\tnight_stand\tnight_stand\t\t\tn03015254\tchest_of_drawers.n.01\tchest_of_drawers\t13',  # noqa: E501
    '7\tcabinet\tcabinet\t731\t3\t6\tcabinet\tcabinet\tFurniture\t\t\tcabinet\t2933112\tn02933112\tcabinet.n.01\tcabinet\t7',  # noqa: E501
    '18\tbookshelf\tbookshelf\t360\t10\t6\tbookshelf\tbookshelf\tFurniture\tbookshelf\t\tbookshelf\t2871439\tn02871439\tbookshelf.n.01\tshelving\t31',  # noqa: E501
    '27\trefrigerator\trefrigerator\t154\t24\t6\trefridgerator\trefridgerator\tFurniture\t\t\t\t\tn04070727\trefrigerator.n.01\tappliances\t37',  # noqa: E501
    '33\ttv\ttv\t219\t25\t11\ttelevision\ttelevision\tTV\t\t\ttv or monitor\t3211117\tn03211117\tdisplay.n.06\ttv_monitor\t22',  # noqa: E501
    '56\ttrash can\ttrash can\t1090\t39\t6\tgarbage bin\totherfurniture\tFurniture\t\t\ttrash_bin\t2747177\tn02747177\tashcan.n.01\tobjects\t39',  # noqa: E501
    '28\tlamp\tlamp\t419\t35\t7\tlamp\tlamp\tObjects\tlamp\t\tlamp\t3636649\tn03636649\tlamp.n.02\tlighting\t28',
    '38\tstool\tstool\t221\t40\t7\tstool\totherprop\tObjects\tstool\t\t\t\tn04326896\tstool.n.01\tstool\t19',
    '36\tdresser\tdresser\t213\t17\t6\tdresser\tdresser\tFurniture\tdresser\tdresser\t\t\tn03015254\tchest_of_drawers.n.01\tchest_of_drawers\t13',  # noqa: E501
    '10\toffice chair\toffice chair\t595\t5\t4\tchair\tchair\tChair\tchair\tchair\tchair\t3001627\tn04373704\tswivel_chair.n.01\tchair\t3',  # noqa: E501
    '23\tarmchair\tarmchair\t281\t5\t4\tchair\tchair\tChair\tchair\tchair\tchair\t3001627\tn02738535\tarmchair.n.01\tchair\t3',  # noqa: E501
    '24\tcoffee table\tcoffee table\t258\t7\t10\tcoffee table\ttable\tTable\ttable\ttable\ttable\t4379243\tn03063968\tcoffee_table.n.01\ttable\t5',  # noqa: E501
    '5\tdoor\tdoor\t1483\t8\t12\tdoor\tdoor\tWall\tdoor\t\t\t\tn03221720\tdoor.n.01\tdoor\t4',
    '16\twindow\twindow\t1209\t9\t13\twindow\twindow\tWindow\t\t\t\t\tn04587648\twindow.n.01\twindow\t9',
    '40\tplant\tplant\t331\t40\t7\tplant\totherprop\tObjects\tplant\t\t\t\tn00017222\tplant.n.02\tplant\t14',
    '51\ttv stand\ttv stand\t61\t39\t6\ttv stand\totherfurniture\tFurniture\ttv_stand\t\t\t\tn03290653\tentertainment_center.n.01\tfurniture\t36',  # noqa: E501
    '67\tottoman\tottoman\t111\t39\t6\tottoman\totherfurniture\tFurniture\tstool\t\t\t\tn03380724\tfootstool.n.01\tstool\t19',  # noqa: E501
    '44\tend table\tend table\t147\t7\t10\ttable\ttable\tTable\ttable\ttable\ttable\t4379243\tn04379243\ttable.n.02\ttable\t5',  # noqa: E501
)
# fmt: on


@dataclass(frozen=True)
class SynthOptions:
    """Size options of synthetic scenes (the defaults match a small real scan)."""

    n_points: int = field(default=100_000, metadata={"help": "approximate mesh vertices per scene"})
    n_frames: int = field(default=300, metadata={"help": ".sens frames per scene (30 fps)"})
    width: int = field(default=640, metadata={"help": "image width in pixels (colour, depth and labels)"})
    height: int = field(default=480, metadata={"help": "image height in pixels"})
    min_pixels: int = field(default=100, metadata={"help": "pixels a category needs to count as seen in a frame"})
    invalid_poses: int = field(default=0, metadata={"help": "frames given an invalid (-inf) pose, as in ScanNet"})
    jpeg_quality: int = field(default=90, metadata={"help": "JPEG quality of the colour frames"})

    def __post_init__(self) -> None:
        if self.n_points < 1000:
            raise ValueError(f"n_points must be >= 1000, got {self.n_points}")
        if self.n_frames < 2:
            raise ValueError(f"n_frames must be >= 2, got {self.n_frames}")
        if self.width < 16 or self.height < 16:
            raise ValueError(f"image size must be at least 16x16, got {self.width}x{self.height}")
        if self.min_pixels < 1:
            raise ValueError(f"min_pixels must be >= 1, got {self.min_pixels}")
        if not 0 <= self.invalid_poses < self.n_frames:
            raise ValueError(f"invalid_poses must be in [0, n_frames), got {self.invalid_poses}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in [1, 100], got {self.jpeg_quality}")


@dataclass(frozen=True)
class _Spec:
    """A furniture category: size ranges (whole cm) along its width, depth, height; how many; where."""

    label: str
    w: tuple[int, int]
    d: tuple[int, int]
    h: tuple[int, int]
    count: tuple[int, int]  # min, max instances
    place: str  # "wall" (back against a wall), "free", "any"
    any_yaw: bool = False
    z0: tuple[int, int] = (0, 0)  # bottom height range (cm), windows only
    clearance: float = 0.0  # extra free depth in front (m), doors and windows


CATALOGUE: tuple[_Spec, ...] = (
    _Spec("door", (80, 95), (4, 5), (200, 210), (1, 1), "wall", clearance=0.8),
    _Spec("window", (80, 160), (8, 10), (100, 140), (0, 2), "wall", z0=(80, 100), clearance=0.3),
    _Spec("bed", (140, 180), (195, 210), (45, 60), (0, 1), "wall"),
    _Spec("sofa", (180, 230), (85, 100), (75, 90), (0, 1), "wall"),
    _Spec("bookshelf", (60, 120), (28, 40), (150, 210), (0, 2), "wall"),
    _Spec("refrigerator", (60, 80), (60, 72), (160, 190), (0, 1), "wall"),
    _Spec("cabinet", (60, 120), (40, 60), (80, 200), (0, 2), "wall"),
    _Spec("dresser", (80, 140), (40, 55), (75, 110), (0, 1), "wall"),
    _Spec("tv stand", (100, 180), (35, 50), (40, 60), (0, 1), "wall"),
    _Spec("lamp", (25, 45), (25, 45), (120, 170), (0, 2), "wall"),
    _Spec("nightstand", (40, 55), (35, 45), (45, 60), (0, 2), "wall"),
    _Spec("table", (120, 180), (75, 95), (72, 78), (0, 1), "free"),
    _Spec("desk", (100, 160), (55, 75), (72, 78), (0, 1), "any"),
    _Spec("coffee table", (80, 120), (50, 70), (40, 48), (0, 1), "free"),
    _Spec("chair", (42, 55), (45, 55), (80, 100), (0, 4), "free", any_yaw=True),
    _Spec("office chair", (55, 68), (55, 68), (90, 120), (0, 1), "free", any_yaw=True),
    _Spec("armchair", (70, 90), (75, 90), (80, 100), (0, 2), "any", any_yaw=True),
    _Spec("stool", (30, 45), (30, 45), (45, 75), (0, 3), "free", any_yaw=True),
    _Spec("ottoman", (40, 70), (40, 70), (38, 45), (0, 1), "free"),
    _Spec("end table", (40, 60), (40, 60), (50, 65), (0, 2), "any"),
    _Spec("plant", (30, 60), (30, 60), (50, 115), (0, 2), "any"),
    _Spec("trash can", (25, 40), (25, 40), (35, 70), (0, 2), "any"),
)

#: base colours (RGB) of the rendered surfaces and vertex colours
_PALETTE = {
    "floor": (150, 120, 90), "wall": (205, 200, 190), "ceiling": (235, 235, 230), "door": (120, 80, 50),
    "window": (150, 190, 230), "bed": (190, 60, 60), "sofa": (70, 90, 160), "bookshelf": (140, 100, 60),
    "refrigerator": (225, 225, 225), "cabinet": (170, 130, 80), "dresser": (110, 70, 40), "tv stand": (40, 40, 40),
    "lamp": (240, 210, 120), "nightstand": (160, 110, 70), "table": (180, 140, 90), "desk": (100, 120, 100),
    "coffee table": (90, 60, 40), "chair": (60, 140, 70), "office chair": (30, 30, 60), "armchair": (150, 90, 150),
    "stool": (200, 150, 50), "ottoman": (120, 160, 170), "end table": (130, 90, 60), "plant": (40, 150, 40),
    "trash can": (90, 90, 100),
}  # fmt: skip
_LIGHT = np.array([0.3, 0.5, 0.8]) / np.linalg.norm([0.3, 0.5, 0.8])
_WALL_CLEARANCE = 0.02  # gap between wall-placed items and the wall (m)
_CAMERA_OFFSET = 1.0  # camera path distance from the walls (m); wall-placed tall items are shallower
_CAMERA_HEIGHT = 1.5
# viewing direction relative to the walking direction (deg, positive = towards the room centre): a base turn
# plus a slow sweep that starts at its outward extreme, so objects come into view progressively (as when a
# ScanNet operator scans along the walls) and the room centre is still seen on the inward swings
_TURN_DEG = (-30.0, -10.0)
_SWEEP_DEG = 45.0  # one full sweep per loop around the room


def label_ids() -> dict[str, int]:
    """Category -> ScanNet label id (TSV ``id``) of the categories synthesised here.

    Example:
        >>> label_ids()["chair"], label_ids()["floor"]
        (2, 3)
    """
    header = TSV_ROWS[0].split("\t")
    out = {}
    for row in TSV_ROWS[1:]:
        rec = dict(zip(header, row.split("\t"), strict=True))
        out[rec["category"]] = int(rec["id"])
    return out


def write_label_tsv(path: PathLike) -> None:
    """Write the v2 label TSV subset (real header and rows) to ``path`` atomically."""
    with atomic_open(path) as f:
        f.write("\n".join(TSV_ROWS) + "\n")


# ---------------------------------------------------------------------------------------------- geometry


@dataclass
class _Box:
    """A furniture box in the aligned frame: centre (3,), size (w, d, h), yaw (rad) about z."""

    label: str
    center: np.ndarray
    size: np.ndarray
    yaw: float
    clearance: float = 0.0

    @property
    def rotation(self) -> np.ndarray:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    def corners(self) -> np.ndarray:
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=float)
        return self.center + (signs * self.size / 2) @ self.rotation.T

    def aabb(self) -> AxisAlignedBox:
        c = self.corners()
        return AxisAlignedBox(c.min(axis=0), c.max(axis=0))

    def footprint(self, inflate: float = 0.0) -> np.ndarray:
        """(4, 2) footprint corners (with the front clearance), inflated by ``inflate`` on every side."""
        w, d = self.size[0] / 2 + inflate, self.size[1] / 2 + inflate
        front = self.clearance
        local = np.array([[-w, -d], [w, -d], [w, d + front], [-w, d + front]])
        return local @ self.rotation[:2, :2].T + self.center[:2]


def _rects_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test of two convex quads (4, 2)."""
    for quad in (a, b):
        for k in range(4):
            edge = quad[(k + 1) % 4] - quad[k]
            axis = np.array([-edge[1], edge[0]])
            pa, pb = a @ axis, b @ axis
            if pa.max() < pb.min() or pb.max() < pa.min():
                return False
    return True


@dataclass
class _Room:
    """Rectangle ``[0, W] x [0, D]`` minus an optional corner cut (L-shape); floor at z = 0."""

    width: float
    depth: float
    height: float
    cut: tuple[float, float, float, float] | None  # x0, y0, x1, y1 of the removed corner rectangle

    @property
    def shape(self) -> str:
        return "rectangle" if self.cut is None else "L"

    def polygon(self) -> np.ndarray:
        """Counter-clockwise floor polygon (k, 2)."""
        w, d = self.width, self.depth
        corners = [(0.0, 0.0), (w, 0.0), (w, d), (0.0, d)]
        if self.cut is None:
            return np.array(corners)
        x0, y0, x1, y1 = self.cut
        cx = x0 if x0 > 0 else x1  # inner corner
        cy = y0 if y0 > 0 else y1
        out = []
        for k, c in enumerate(corners):
            if (c[0] in (x0, x1)) and (c[1] in (y0, y1)):  # the cut corner: replace by three vertices
                prev_c, next_c = np.array(corners[k - 1]), np.array(corners[(k + 1) % 4])
                along_prev = (cx, c[1]) if prev_c[1] == c[1] else (c[0], cy)
                along_next = (cx, c[1]) if next_c[1] == c[1] else (c[0], cy)
                out += [along_prev, (cx, cy), along_next]
            else:
                out.append(c)
        return np.array(out, dtype=float)

    def area(self) -> float:
        area = self.width * self.depth
        if self.cut is not None:
            x0, y0, x1, y1 = self.cut
            area -= (x1 - x0) * (y1 - y0)
        return area

    def floor_rects(self) -> list[tuple[float, float, float, float]]:
        """Disjoint rectangles (x0, y0, x1, y1) covering the floor."""
        w, d = self.width, self.depth
        if self.cut is None:
            return [(0.0, 0.0, w, d)]
        x0, y0, x1, y1 = self.cut
        if y0 > 0:  # cut at the top: full-width band below it, then the part beside the cut
            rects = [(0.0, 0.0, w, y0)]
        else:
            rects = [(0.0, y1, w, d)]
        band = (y0, y1)
        rects.append((x1, band[0], w, band[1]) if x0 == 0 else (0.0, band[0], x0, band[1]))
        return rects

    def contains_quad(self, quad: np.ndarray, margin: float = 0.005) -> bool:
        if quad[:, 0].min() < margin or quad[:, 1].min() < margin:
            return False
        if quad[:, 0].max() > self.width - margin or quad[:, 1].max() > self.depth - margin:
            return False
        if self.cut is not None:
            x0, y0, x1, y1 = self.cut
            cut_quad = (
                np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
                + np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * margin
            )
            if _rects_overlap(quad, cut_quad):
                return False
        return True


def _make_room(rng: np.random.Generator) -> _Room:
    height = round(float(rng.uniform(2.5, 3.0)), 2)
    if rng.random() < 0.45:
        w, d = round(float(rng.uniform(5.0, 8.0)), 2), round(float(rng.uniform(4.5, 7.0)), 2)
        cw, cd = round(w * float(rng.uniform(0.3, 0.45)), 2), round(d * float(rng.uniform(0.3, 0.45)), 2)
        right, top = bool(rng.integers(2)), bool(rng.integers(2))
        x0, x1 = (w - cw, w) if right else (0.0, cw)
        y0, y1 = (d - cd, d) if top else (0.0, cd)
        return _Room(w, d, height, (x0, y0, x1, y1))
    w, d = round(float(rng.uniform(3.5, 7.0)), 2), round(float(rng.uniform(3.2, 6.0)), 2)
    return _Room(w, d, height, None)


def _cm(rng: np.random.Generator, lo_hi: tuple[int, int]) -> float:
    return int(rng.integers(lo_hi[0], lo_hi[1] + 1)) / 100.0


def _place_furniture(rng: np.random.Generator, room: _Room) -> list[_Box]:
    poly = room.polygon()
    edges = [(poly[k], poly[(k + 1) % len(poly)]) for k in range(len(poly))]
    lengths = np.array([np.linalg.norm(b - a) for a, b in edges])
    placed: list[_Box] = []
    for spec in CATALOGUE:
        n = int(rng.integers(spec.count[0], spec.count[1] + 1))
        for _ in range(n):
            w, d, h = _cm(rng, spec.w), _cm(rng, spec.d), _cm(rng, spec.h)
            z0 = _cm(rng, spec.z0)
            tall = h > 1.2 and spec.label != "door"
            for _attempt in range(60):
                at_wall = spec.place == "wall" or tall or (spec.place == "any" and rng.random() < 0.5)
                if at_wall:
                    k = int(rng.choice(len(edges), p=lengths / lengths.sum()))
                    a, b = edges[k]
                    length = lengths[k]
                    if length < w + 0.1:
                        continue
                    along = (b - a) / length
                    inward = np.array([-along[1], along[0]])
                    s = float(rng.uniform(w / 2 + 0.05, length - w / 2 - 0.05))
                    gap = 0.0 if spec.label in ("door", "window") else _WALL_CLEARANCE
                    xy = a + s * along + (gap + d / 2) * inward
                    yaw = math.atan2(along[1], along[0])
                else:
                    xy = np.array([rng.uniform(0, room.width), rng.uniform(0, room.depth)])
                    yaw = float(rng.uniform(0, 2 * math.pi)) if spec.any_yaw else int(rng.integers(4)) * math.pi / 2
                center = np.array([round(float(xy[0]), 4), round(float(xy[1]), 4), z0 + h / 2])
                box = _Box(spec.label, center, np.array([w, d, h]), yaw, spec.clearance)
                quad = box.footprint()
                if not room.contains_quad(quad):
                    continue
                if any(_rects_overlap(box.footprint(0.05), other.footprint(0.05)) for other in placed):
                    continue
                placed.append(box)
                break
    return placed


# --------------------------------------------------------------------------------------------- sampling


def _grid_patch(p0: np.ndarray, u: np.ndarray, v: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Regular grid on the parallelogram p0 + [0,1] u + [0,1] v (corners and edges included) + its triangles."""
    nu = max(2, math.ceil(np.linalg.norm(u) / spacing) + 1)
    nv = max(2, math.ceil(np.linalg.norm(v) / spacing) + 1)
    a = np.linspace(0.0, 1.0, nu)
    b = np.linspace(0.0, 1.0, nv)
    pts = p0 + a[:, None, None] * u + b[None, :, None] * v  # (nu, nv, 3)
    idx = np.arange(nu * nv).reshape(nu, nv)
    i00, i10, i11, i01 = idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]
    tris = np.concatenate([np.stack([i00, i10, i11], -1).reshape(-1, 3), np.stack([i00, i11, i01], -1).reshape(-1, 3)])
    return pts.reshape(-1, 3), tris


@dataclass
class _Surface:
    """One annotated object's patches (for the mesh) and rendering attributes."""

    object_id: int
    label: str
    color: np.ndarray
    patches: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)  # p0,u,v,n


def _shade(normal: np.ndarray) -> np.ndarray:
    return 0.55 + 0.45 * np.abs(normal @ _LIGHT)


def _box_patches(box: _Box) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The 5 visible faces (no bottom) of a box as (p0, u, v, outward normal)."""
    r = box.rotation
    hx, hy, hz = (r * box.size / 2).T  # half-axis vectors (world)
    c = box.center
    faces = []
    for axis, (e, f, g) in enumerate(((hx, hy, hz), (hy, hz, hx), (hz, hx, hy))):
        for sign in (-1, 1):
            if axis == 2 and sign == -1:
                continue
            p0 = c + sign * e - f - g
            faces.append((p0, 2 * f, 2 * g, sign * e / np.linalg.norm(e)))
    return faces


# ------------------------------------------------------------------------------------------ camera + render


def _camera_path(room: _Room, n_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Camera-to-world poses (aligned frame) walking once around the room 1 m from the walls, 20 deg down.

    The view starts turned towards the wall ahead and sweeps once towards the room centre and back, so
    objects come into view over the whole stream (appearance order) and every part of the room is seen.
    """
    poly = room.polygon()
    k = len(poly)
    path = []
    for i in range(k):
        prev_e = poly[i] - poly[i - 1]
        next_e = poly[(i + 1) % k] - poly[i]
        n1 = np.array([-prev_e[1], prev_e[0]]) / np.linalg.norm(prev_e)
        n2 = np.array([-next_e[1], next_e[0]]) / np.linalg.norm(next_e)
        path.append(poly[i] + _CAMERA_OFFSET * (n1 + n2))
    path = np.array(path + [path[0]])
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]

    def at(s: float) -> np.ndarray:
        s = s % total
        j = min(int(np.searchsorted(cum, s, side="right")) - 1, len(seg) - 1)
        return path[j] + (s - cum[j]) / seg[j] * (path[j + 1] - path[j])

    phase = float(rng.uniform(0, total))
    turn = math.radians(float(rng.uniform(*_TURN_DEG)))
    poses = []
    for f in range(n_frames):
        s = phase + total * f / n_frames
        xy = at(s)
        tangent = at(s + 0.7) - at(s - 0.7)
        sweep = math.radians(_SWEEP_DEG) * math.sin(2 * math.pi * f / n_frames - math.pi / 2)
        yaw = math.atan2(tangent[1], tangent[0]) + turn + sweep
        pitch = math.radians(-20)
        fwd = np.array([math.cos(yaw) * math.cos(pitch), math.sin(yaw) * math.cos(pitch), math.sin(pitch)])
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        pose = np.eye(4)
        pose[:3, :3] = np.stack([right, down, fwd], axis=1)
        pose[:3, 3] = [xy[0], xy[1], _CAMERA_HEIGHT + 0.03 * math.sin(2 * math.pi * f / 20)]
        poses.append(pose)
    return poses


class _Renderer:
    """Ray caster for one scene: room (floor, ceiling, walls) + furniture boxes; exact z-buffer, float32."""

    def __init__(self, room: _Room, boxes: list[_Box], box_ids: list[int], room_ids: dict, ids: dict[str, int],
                 colors: dict[int, np.ndarray], intrinsics: np.ndarray, width: int, height: int):  # fmt: skip
        self.room, self.boxes, self.width, self.height = room, boxes, width, height
        self.k = intrinsics
        fx, fy, cx, cy = intrinsics[0, 0], intrinsics[1, 1], intrinsics[0, 2], intrinsics[1, 2]
        u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
        # camera ray directions (x, y, 1): the ray parameter t is the camera z-depth
        self.px = ((u - cx) / fx).astype(np.float32)
        self.py = ((v - cy) / fy).astype(np.float32)
        poly = room.polygon()
        self.walls = [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
        # surface table: 0 floor, 1 ceiling, 2.. walls, then boxes
        n_walls = len(self.walls)
        self.label = np.zeros(2 + n_walls + len(boxes), np.uint16)
        self.instance = np.zeros(len(self.label), np.uint8)
        self.color = np.zeros((len(self.label), 3), np.float32)
        self.shade = np.zeros((len(self.label), 3), np.float32)  # per surface and local axis (boxes)
        self.label[0], self.instance[0], self.color[0] = ids["floor"], room_ids["floor"] + 1, colors[room_ids["floor"]]
        self.label[1], self.color[1] = ids["ceiling"], np.array(_PALETTE["ceiling"], float)
        self.shade[0], self.shade[1] = _shade(np.array([0, 0, 1.0])), _shade(np.array([0, 0, -1.0]))
        for i, (a, b) in enumerate(self.walls):
            oid = room_ids["walls"][i]
            self.label[2 + i], self.instance[2 + i], self.color[2 + i] = ids["wall"], oid + 1, colors[oid]
            self.shade[2 + i] = _shade(np.array([-(b - a)[1], (b - a)[0], 0.0]) / np.linalg.norm(b - a))
        for j, (box, oid) in enumerate(zip(boxes, box_ids, strict=True)):
            s = 2 + n_walls + j
            self.label[s], self.instance[s], self.color[s] = ids[box.label], oid + 1, colors[oid]
            self.shade[s] = [_shade(axis) for axis in box.rotation.T]
        self.shade[0, 1] = 0.9 * self.shade[0, 0]  # dark floor tiles
        for a, b in self.walls:
            if a[0] != b[0] and a[1] != b[1]:
                raise ValueError("synthetic rooms have axis-aligned walls only")
        # colour of every (surface, shade slot): one gather per frame
        self.lut = np.clip(np.round(self.color[:, None, :] * self.shade[:, :, None]), 0, 255).astype(np.uint8)

    def render(self, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(colour uint8 (H,W,3), depth uint16 mm, label ids uint16, instance ids uint8) for a camera pose."""
        rot, o = pose[:3, :3], pose[:3, 3]
        px, py = self.px, self.py
        f32 = np.float32
        dx = px * f32(rot[0, 0]) + py * f32(rot[0, 1]) + f32(rot[0, 2])
        dy = px * f32(rot[1, 0]) + py * f32(rot[1, 1]) + f32(rot[1, 2])
        dz = px * f32(rot[2, 0]) + py * f32(rot[2, 1]) + f32(rot[2, 2])
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_dz = 1.0 / dz
            t = np.where(dz < 0, f32(-o[2]) * inv_dz, f32(self.room.height - o[2]) * inv_dz).astype(f32)
            surf = np.where(dz < 0, 0, 1).astype(np.int16)
            axis = np.zeros(t.shape, np.int8)
            inv_dx, inv_dy = 1.0 / dx, 1.0 / dy
            for i, (a, b) in enumerate(self.walls):
                ends = np.array([[a[0], a[1], 0.0], [b[0], b[1], 0.0], [a[0], a[1], self.room.height],
                                 [b[0], b[1], self.room.height]])  # fmt: skip
                if np.all((ends - o) @ rot[:, 2] <= 0):  # wall entirely behind the camera
                    continue
                # walls are axis-aligned (orthogonal rooms): plane x = const or y = const, extent along the other
                k = 0 if a[0] == b[0] else 1  # the constant coordinate
                lo, hi = sorted((a[1 - k], b[1 - k]))
                tw = f32(a[k] - o[k]) * (inv_dx if k == 0 else inv_dy)
                other = f32(o[1 - k]) + tw * (dy if k == 0 else dx)
                hit = (tw > 1e-6) & (tw < t) & (other >= lo) & (other <= hi)
                np.copyto(t, tw, where=hit)
                np.copyto(surf, np.int16(2 + i), where=hit)
        for j, box in enumerate(self.boxes):
            self._cast_box(box, 2 + len(self.walls) + j, rot, o, t, surf, axis)
        floor = surf == 0
        if floor.any():  # checkerboard floor tiles: dark tiles use the floor's second shade slot
            tf = t[floor]
            checker = (np.floor((f32(o[0]) + tf * dx[floor]) * 2) + np.floor((f32(o[1]) + tf * dy[floor]) * 2)) % 2
            axis[floor] = (checker == 0).astype(np.int8)
        color = self.lut[surf, axis]
        depth = (np.minimum(t * 1000.0, 65535.0) + 0.5).astype(np.uint16)
        return color, depth, self.label[surf], self.instance[surf]

    def _screen_rect(self, box: _Box, rot: np.ndarray, o: np.ndarray) -> tuple[int, int, int, int] | None:
        """Pixel rectangle (u0, u1, v0, v1) covering the box clipped to z >= near, or None when not visible."""
        near = 0.01
        corners = (box.corners() - o) @ rot  # camera coordinates
        z = corners[:, 2]
        front = z >= near
        if not front.any():
            return None
        pts = [corners[front]]
        if not front.all():  # add the intersections of the 12 edges with the near plane
            idx = np.arange(8)
            for bit in (1, 2, 4):
                a, b = idx[(idx & bit) == 0], idx[(idx & bit) == 0] + bit
                cross = front[a] != front[b]
                if cross.any():
                    ca, cb = corners[a[cross]], corners[b[cross]]
                    s = (near - ca[:, 2]) / (cb[:, 2] - ca[:, 2])
                    pts.append(ca + s[:, None] * (cb - ca))
        p = np.concatenate(pts)
        u = self.k[0, 0] * p[:, 0] / p[:, 2] + self.k[0, 2]
        v = self.k[1, 1] * p[:, 1] / p[:, 2] + self.k[1, 2]
        u0, u1 = max(int(np.floor(u.min())), 0), min(int(np.ceil(u.max())) + 1, self.width)
        v0, v1 = max(int(np.floor(v.min())), 0), min(int(np.ceil(v.max())) + 1, self.height)
        if u0 >= u1 or v0 >= v1:
            return None
        return u0, u1, v0, v1

    def _cast_box(self, box: _Box, sid: int, rot: np.ndarray, o: np.ndarray, t, surf, axis_img) -> None:
        rect = self._screen_rect(box, rot, o)
        if rect is None:
            return
        u0, u1, v0, v1 = rect
        rb = box.rotation
        m = (rot.T @ rb).astype(np.float32)  # camera -> box-local directions
        o_local = rb.T @ (o - box.center)
        half = box.size / 2
        px, py = self.px[v0:v1, u0:u1], self.py[v0:v1, u0:u1]
        tnear = tfar = None
        tn_list = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for k in range(3):
                inv = 1.0 / (px * m[0, k] + py * m[1, k] + m[2, k])
                t1 = np.float32(-half[k] - o_local[k]) * inv
                t2 = np.float32(half[k] - o_local[k]) * inv
                tn, tf = np.minimum(t1, t2), np.maximum(t1, t2)
                tn_list.append(tn)
                tnear = tn if tnear is None else np.maximum(tnear, tn)
                tfar = tf if tfar is None else np.minimum(tfar, tf)
        sub_t = t[v0:v1, u0:u1]
        hit = (tnear <= tfar) & (tnear > 1e-4) & (tnear < sub_t)
        if not hit.any():
            return
        face_axis = np.where(tn_list[0] == tnear, 0, np.where(tn_list[1] == tnear, 1, 2)).astype(np.int8)
        np.copyto(sub_t, tnear, where=hit)
        np.copyto(surf[v0:v1, u0:u1], np.int16(sid), where=hit)
        np.copyto(axis_img[v0:v1, u0:u1], face_axis, where=hit)


# ------------------------------------------------------------------------------------------------- writer


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
    """Write one synthetic scene folder ``out_dir/scans/<scene_name>/`` (module docstring); returns it."""
    opts = options or SynthOptions()
    rng = np.random.default_rng(np.random.SeedSequence([seed, int(scene_name[5:9]), int(scene_name[10:12])]))
    scene_dir = Path(out_dir) / "scans" / scene_name
    ids = label_ids()
    room = _make_room(rng)
    boxes = _place_furniture(rng, room)
    alignment = _alignment(rng)
    raw_from_aligned = np.linalg.inv(alignment)

    # annotated objects: floor (0), walls (1..), then furniture in placement order
    poly = room.polygon()
    walls = [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
    surfaces: list[_Surface] = []

    def color_of(label: str) -> np.ndarray:
        jitter = rng.integers(-12, 13, size=3)
        return np.clip(np.array(_PALETTE[label]) + jitter, 0, 255).astype(float)

    floor = _Surface(0, "floor", color_of("floor"))
    for x0, y0, x1, y1 in room.floor_rects():
        floor.patches.append((np.array([x0, y0, 0.0]), np.array([x1 - x0, 0, 0.0]), np.array([0, y1 - y0, 0.0]),
                              np.array([0, 0, 1.0])))  # fmt: skip
    surfaces.append(floor)
    for a, b in walls:
        e = b - a
        normal = np.array([-e[1], e[0], 0.0]) / np.linalg.norm(e)
        wall = _Surface(len(surfaces), "wall", color_of("wall"))
        wall.patches.append((np.array([a[0], a[1], 0.0]), np.array([e[0], e[1], 0.0]), np.array([0, 0, room.height]),
                             normal))  # fmt: skip
        surfaces.append(wall)
    for box in boxes:
        surf = _Surface(len(surfaces), box.label, color_of(box.label))
        surf.patches.extend(_box_patches(box))
        surfaces.append(surf)

    # mesh: a regular grid per patch, one segment per patch (segment id = its first vertex index)
    total_area = sum(np.linalg.norm(np.cross(u, v)) for s in surfaces for _, u, v, _ in s.patches)
    spacing = math.sqrt(total_area / opts.n_points)
    pts_list, tri_list, col_list, lab_list, seg_list = [], [], [], [], []
    groups = []
    n = 0
    for s in surfaces:
        segments = []
        for p0, u, v, normal in s.patches:
            pts, tris = _grid_patch(p0, u, v, spacing)
            pts_list.append(pts)
            tri_list.append(tris + n)
            col_list.append(np.repeat((s.color * _shade(normal))[None], len(pts), axis=0))
            lab_list.append(np.full(len(pts), ids[s.label]))
            seg_list.append(np.full(len(pts), n))
            segments.append(n)
            n += len(pts)
        groups.append(SegGroup(s.object_id, s.object_id, s.label, np.array(segments)))
    aligned_pts = np.concatenate(pts_list)
    raw_pts = aligned_pts @ raw_from_aligned[:3, :3].T + raw_from_aligned[:3, 3]
    colors = np.clip(np.round(np.concatenate(col_list)), 0, 255).astype(np.uint8)
    faces = np.concatenate(tri_list)
    labels = np.concatenate(lab_list)
    files_prefix = scene_dir / scene_name
    scannet_io.write_ply(f"{files_prefix}_vh_clean_2.ply", raw_pts, colors=colors, faces=faces)
    scannet_io.write_ply(f"{files_prefix}_vh_clean_2.labels.ply", raw_pts, colors=colors, faces=faces, labels=labels)
    scannet_io.write_segs(f"{files_prefix}_vh_clean_2.0.010000.segs.json", scene_name, np.concatenate(seg_list))
    scannet_io.write_aggregation(f"{files_prefix}.aggregation.json", scene_name, groups)

    # camera stream
    fx = 0.9 * opts.width
    k = np.array([[fx, 0, (opts.width - 1) / 2], [0, fx, (opts.height - 1) / 2], [0, 0, 1.0]])
    scene_type = "Bedroom / Hotel" if any(b.label == "bed" for b in boxes) else "Living room / Lounge"
    with atomic_open(f"{files_prefix}.txt") as f:
        f.write(_scene_txt(alignment, opts, k, scene_type))
    poses = _camera_path(room, opts.n_frames, rng)
    invalid = sorted(int(i) for i in rng.choice(np.arange(1, opts.n_frames), opts.invalid_poses, replace=False))
    renderer = _Renderer(room, boxes, [s.object_id for s in surfaces[1 + len(walls):]],
                         {"floor": 0, "walls": [s.object_id for s in surfaces[1:1 + len(walls)]]}, ids,
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

    write_sens(f"{files_prefix}.sens", frames(), num_frames=opts.n_frames, intrinsics=k, fps=FPS,
               jpeg_quality=opts.jpeg_quality)  # fmt: skip
    write_label_zip(f"{files_prefix}_2d-label-filt.zip", "label-filt", label_pngs, bits=16)
    write_label_zip(f"{files_prefix}_2d-instance-filt.zip", "instance-filt", instance_pngs, bits=8)

    # answer key
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
        aabb = _Box(s.label, center, size, yaw).aabb()
        aabbs[s.object_id] = aabb
        obb_axes, obb_lengths = _canonical_obb(size, yaw)
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
        for s, box in zip(surfaces[1 + len(walls):], boxes, strict=True)
    ]  # fmt: skip
    key = {
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
                   "intrinsics": [_round(row) for row in k], "invalid_pose_frames": invalid},
        "appearance": {"min_pixels": opts.min_pixels, "first_frame": first_frame,
                       "first_seconds": {c: round(i / FPS, 6) for c, i in first_frame.items()},
                       "first_frame_any_pixel": first_any},
    }  # fmt: skip
    write_json(scene_dir / "answer_key.json", key)
    return scene_dir


def _canonical_obb(size: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """Axes rows and lengths in :func:`~spatial_r1_eval.generation.boxes.min_oriented_box`'s convention."""
    w, d, h = (float(v) for v in size)
    u = np.array([math.cos(yaw), math.sin(yaw)])
    if d > w:
        u = np.array([-u[1], u[0]])
        w, d = d, w
    if u[0] < -1e-6 or (abs(u[0]) <= 1e-6 and u[1] < 0):
        u = -u
    axes = np.array([[u[0], u[1], 0.0], [-u[1], u[0], 0.0], [0.0, 0.0, 1.0]])
    return axes, np.array([w, d, h])


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
