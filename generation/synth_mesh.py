"""Surfaces and mesh of a synthetic scene: planar patches per annotated object, a regular grid per patch.

Part of :mod:`~spatial_r1_eval.generation.synth`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spatial_r1_eval.generation.scannet_io import SegGroup
from spatial_r1_eval.generation.synth_catalogue import PALETTE
from spatial_r1_eval.generation.synth_layout import FurnitureBox, Room

#: direction of the light (unit vector) that shades the surfaces
LIGHT = np.array([0.3, 0.5, 0.8]) / np.linalg.norm([0.3, 0.5, 0.8])


def grid_patch(p0: np.ndarray, u: np.ndarray, v: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
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
class Surface:
    """One annotated object's patches (for the mesh) and rendering attributes."""

    object_id: int
    label: str
    color: np.ndarray
    patches: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)  # p0,u,v,n


def shade(normal: np.ndarray) -> np.ndarray:
    """Brightness factor (0.55..1) of a surface with this unit normal."""
    return 0.55 + 0.45 * np.abs(normal @ LIGHT)


def box_patches(box: FurnitureBox) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
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


def scene_surfaces(room: Room, boxes: list[FurnitureBox], rng: np.random.Generator) -> list[Surface]:
    """The annotated objects as surfaces: the floor (object 0), one per wall (1..), then the furniture in placement
    order; each gets its palette colour with a seeded jitter (drawn in that order)."""
    poly = room.polygon()
    walls = [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
    surfaces: list[Surface] = []

    def color_of(label: str) -> np.ndarray:
        jitter = rng.integers(-12, 13, size=3)
        return np.clip(np.array(PALETTE[label]) + jitter, 0, 255).astype(float)

    floor = Surface(0, "floor", color_of("floor"))
    for x0, y0, x1, y1 in room.floor_rects():
        floor.patches.append((np.array([x0, y0, 0.0]), np.array([x1 - x0, 0, 0.0]), np.array([0, y1 - y0, 0.0]),
                              np.array([0, 0, 1.0])))  # fmt: skip
    surfaces.append(floor)
    for a, b in walls:
        e = b - a
        normal = np.array([-e[1], e[0], 0.0]) / np.linalg.norm(e)
        wall = Surface(len(surfaces), "wall", color_of("wall"))
        wall.patches.append((np.array([a[0], a[1], 0.0]), np.array([e[0], e[1], 0.0]), np.array([0, 0, room.height]),
                             normal))  # fmt: skip
        surfaces.append(wall)
    for box in boxes:
        surf = Surface(len(surfaces), box.label, color_of(box.label))
        surf.patches.extend(box_patches(box))
        surfaces.append(surf)
    return surfaces


@dataclass
class Mesh:
    """A scene mesh in the aligned frame: vertices, colours, triangles, label ids, segment ids, segGroups."""

    points: np.ndarray
    colors: np.ndarray
    faces: np.ndarray
    labels: np.ndarray
    segments: np.ndarray
    groups: list[SegGroup]


def build_mesh(surfaces: list[Surface], ids: dict[str, int], n_points: int) -> Mesh:
    """A regular grid per patch (spacing for about ``n_points`` vertices in all), one segment per patch (segment id
    = its first vertex index), one segGroup per surface; ``ids``: category -> ScanNet label id."""
    total_area = sum(np.linalg.norm(np.cross(u, v)) for s in surfaces for _, u, v, _ in s.patches)
    spacing = math.sqrt(total_area / n_points)
    pts_list, tri_list, col_list, lab_list, seg_list = [], [], [], [], []
    groups = []
    n = 0
    for s in surfaces:
        segments = []
        for p0, u, v, normal in s.patches:
            pts, tris = grid_patch(p0, u, v, spacing)
            pts_list.append(pts)
            tri_list.append(tris + n)
            col_list.append(np.repeat((s.color * shade(normal))[None], len(pts), axis=0))
            lab_list.append(np.full(len(pts), ids[s.label]))
            seg_list.append(np.full(len(pts), n))
            segments.append(n)
            n += len(pts)
        groups.append(SegGroup(s.object_id, s.object_id, s.label, np.array(segments)))
    return Mesh(
        points=np.concatenate(pts_list),
        colors=np.clip(np.round(np.concatenate(col_list)), 0, 255).astype(np.uint8),
        faces=np.concatenate(tri_list),
        labels=np.concatenate(lab_list),
        segments=np.concatenate(seg_list),
        groups=groups,
    )
