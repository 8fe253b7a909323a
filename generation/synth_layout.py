"""Room and furniture layout of a synthetic scene, in the aligned frame (floor at z = 0, room inside x, y >= 0).

Rooms are rectangles or L-shapes with axis-aligned walls, 2.5-3.0 m high; furniture items are boxes with real-world
sizes (whole centimetres, :data:`~spatial_r1_eval.generation.synth_catalogue.CATALOGUE`) standing on the floor without
overlap; tall ones (over 1.2 m), doors and windows stand against walls. Part of
:mod:`~spatial_r1_eval.generation.synth`.

>>> rng = np.random.default_rng(0)
>>> room = make_room(rng)
>>> room.shape, round(room.area(), 2), len(room.polygon()), [box.label for box in place_furniture(rng, room)][:2]
('L', 18.97, 6, ['bed', 'bookshelf'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spatial_r1_eval.generation.scene import AxisAlignedBox
from spatial_r1_eval.generation.synth_catalogue import CATALOGUE

_WALL_CLEARANCE = 0.02  # gap between wall-placed items and the wall (m)


@dataclass
class FurnitureBox:
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


def quads_overlap(a: np.ndarray, b: np.ndarray) -> bool:
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
class Room:
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
            if quads_overlap(quad, cut_quad):
                return False
        return True


def make_room(rng: np.random.Generator) -> Room:
    height = round(float(rng.uniform(2.5, 3.0)), 2)
    if rng.random() < 0.45:
        w, d = round(float(rng.uniform(5.0, 8.0)), 2), round(float(rng.uniform(4.5, 7.0)), 2)
        cw, cd = round(w * float(rng.uniform(0.3, 0.45)), 2), round(d * float(rng.uniform(0.3, 0.45)), 2)
        right, top = bool(rng.integers(2)), bool(rng.integers(2))
        x0, x1 = (w - cw, w) if right else (0.0, cw)
        y0, y1 = (d - cd, d) if top else (0.0, cd)
        return Room(w, d, height, (x0, y0, x1, y1))
    w, d = round(float(rng.uniform(3.5, 7.0)), 2), round(float(rng.uniform(3.2, 6.0)), 2)
    return Room(w, d, height, None)


def _cm(rng: np.random.Generator, lo_hi: tuple[int, int]) -> float:
    return int(rng.integers(lo_hi[0], lo_hi[1] + 1)) / 100.0


def place_furniture(rng: np.random.Generator, room: Room) -> list[FurnitureBox]:
    poly = room.polygon()
    edges = [(poly[k], poly[(k + 1) % len(poly)]) for k in range(len(poly))]
    lengths = np.array([np.linalg.norm(b - a) for a, b in edges])
    placed: list[FurnitureBox] = []
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
                box = FurnitureBox(spec.label, center, np.array([w, d, h]), yaw, spec.clearance)
                quad = box.footprint()
                if not room.contains_quad(quad):
                    continue
                if any(quads_overlap(box.footprint(0.05), other.footprint(0.05)) for other in placed):
                    continue
                placed.append(box)
                break
    return placed


def canonical_obb(size: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray]:
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
