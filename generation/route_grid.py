"""The walkability grid of route planning (:mod:`~spatial_r1_eval.generation.routes`): free floor, obstacle footprints
and the distance fields that give each leg's clearance.

An :class:`OccupancyGrid` (``route_cell`` m cells) holds the free floor (the cells holding a floor point, closed over
the points' spacing), the footprints of the obstacles (every object but the walkable labels and those starting
higher than ``route_max_obstacle_bottom`` above the floor) and, per route candidate, the distance to its footprint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatial_r1_eval.generation.alpha_shape import floor_points
from spatial_r1_eval.generation.boxes import _convex_hull_2d
from spatial_r1_eval.generation.scene import Scene, SceneObject

#: Labels that are walked on or are the room itself: never obstacles.
WALKABLE_LABELS = frozenset({"floor", "ceiling", "wall", "walls", "rug", "carpet", "mat", "floor mat", "bath mat"})


def footprint_polygon(obj: SceneObject) -> np.ndarray:
    """(k, 2) counter-clockwise floor-plane footprint of an object: the 2-D hull of its oriented box's corners.

    Example:
        >>> from spatial_r1_eval.generation.scene import AxisAlignedBox, OrientedBox
        >>> obb = OrientedBox(np.array([1.0, 1.0, 0.5]), np.array([2.0, 1.0, 1.0]), np.eye(3))
        >>> o = SceneObject(0, "bed", "bed", AxisAlignedBox(np.zeros(3), np.ones(3)), obb)
        >>> sorted(map(tuple, footprint_polygon(o).tolist()))
        [(0.0, 0.5), (0.0, 1.5), (2.0, 0.5), (2.0, 1.5)]
    """
    return _convex_hull_2d(np.unique(np.round(obj.obb.corners()[:, :2], 9), axis=0))


def _inside_convex(xy: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Points (N, 2) inside (or on) a counter-clockwise convex polygon (k >= 3)."""
    edges = np.roll(poly, -1, axis=0) - poly
    rel = xy[:, None, :] - poly[None]
    return np.all(edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0] >= -1e-12, axis=1)


@dataclass
class OccupancyGrid:
    """Floor-plane grid of a scene: cell ``(r, c)`` has its centre at ``origin + (c, r) * cell``.

    Attributes:
        origin: (2,) centre of cell (0, 0), metres.
        cell: Cell size (m).
        free: (H, W) free floor (closed floor-point cells, or under an object).
        footprints: Object index (in ``scene.objects``) -> (H, W) mask of the cells whose centre lies in its
            footprint, for every obstacle and route candidate (the part of a leg it excludes at the leg's ends).
        edge_distance: (H, W) distance (m) from each cell centre to the nearest non-free cell centre.
        obstacle_distance: Object index -> (H, W) distance (m) to its footprint (with every cell its outline
            crosses, so thin objects never vanish), for route candidates; key ``-1``: to every other obstacle.
    """

    origin: np.ndarray
    cell: float
    free: np.ndarray
    footprints: dict[int, np.ndarray]
    edge_distance: np.ndarray
    obstacle_distance: dict[int, np.ndarray]

    def cells(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of points (N, 2), clipped to the grid."""
        rc = np.round((np.asarray(xy)[:, :2] - self.origin) / self.cell).astype(int)
        h, w = self.free.shape
        return np.clip(rc[:, 1], 0, h - 1), np.clip(rc[:, 0], 0, w - 1)

    def leg_clearance(self, i: int, j: int, a: np.ndarray, b: np.ndarray) -> float:
        """Smallest distance (m) from the segment a→b, outside the footprints of objects ``i`` and ``j``, to any
        other obstacle or the edge of the free floor (``inf`` when the whole segment lies in the two footprints)."""
        n = max(2, math.ceil(float(np.linalg.norm(b - a)) / (self.cell / 2)) + 1)
        pts = a[None, :2] + np.linspace(0.0, 1.0, n)[:, None] * (b[:2] - a[:2])[None]
        rows, cols = self.cells(pts)
        keep = ~(self.footprints[i][rows, cols] | self.footprints[j][rows, cols])
        if not keep.any():
            return math.inf
        rows, cols = rows[keep], cols[keep]
        dist = self.edge_distance[rows, cols]
        for k, field_ in self.obstacle_distance.items():
            if k not in (i, j):
                dist = np.minimum(dist, field_[rows, cols])
        return float(dist.min())


def occupancy_grid(scene: Scene, candidates: Sequence[int], config: Any) -> OccupancyGrid:
    """Build the :class:`OccupancyGrid` of ``scene``; ``candidates`` are the object indices routes may visit."""
    from scipy.ndimage import distance_transform_edt
    from scipy.spatial import cKDTree

    cell = float(config.route_cell)
    floor_xy = np.zeros((0, 2))
    floor_z = None
    if scene.points is not None and len(scene.points) >= 4:
        fp = floor_points(scene.points, config.floor_height)
        floor_xy, floor_z = fp[:, :2], float(np.min(scene.points[:, 2]))
    polys = _obstacle_footprints(scene, config, floor_z)
    radius = 1  # closing radius (cells): the floor points' spacing
    if len(floor_xy) >= 4:
        spacing = float(np.median(cKDTree(floor_xy).query(floor_xy, k=2)[0][:, 1]))
        radius = max(1, math.ceil(spacing / cell))
    every = np.concatenate([floor_xy, *polys.values()]) if polys or len(floor_xy) else np.zeros((1, 2))
    lo = np.floor(every.min(axis=0) / cell) * cell - (radius + 3) * cell
    hi = np.ceil(every.max(axis=0) / cell) * cell + (radius + 3) * cell
    w, h = (np.round((hi - lo) / cell).astype(int) + 1).tolist()
    free = _floor_cells(floor_xy, lo, cell, radius, (h, w))
    grid = OccupancyGrid(lo, cell, free, {}, np.zeros((h, w)), {})
    solid = _rasterise_footprints(grid, polys)
    for mask in solid.values():
        free |= mask
    grid.edge_distance = distance_transform_edt(free) * cell
    wanted = set(candidates)
    rest = np.zeros((h, w), dtype=bool)
    for k, mask in solid.items():
        if k in wanted:
            grid.obstacle_distance[k] = distance_transform_edt(~mask) * cell
        else:
            rest |= mask
    grid.obstacle_distance[-1] = distance_transform_edt(~rest) * cell if rest.any() else np.full((h, w), np.inf)
    for k in wanted - set(grid.footprints):  # a candidate that is no obstacle: empty footprint
        grid.footprints[k] = np.zeros((h, w), dtype=bool)
    return grid


def _obstacle_footprints(scene: Scene, config: Any, floor_z: float | None) -> dict[int, np.ndarray]:
    """Object index -> floor footprint polygon of every obstacle (not walkable, not starting too high)."""
    polys: dict[int, np.ndarray] = {}
    for k, obj in enumerate(scene.objects):
        bottom = float(obj.aabb.min[2]) - (floor_z if floor_z is not None else float(obj.aabb.min[2]))
        if obj.label in WALKABLE_LABELS or bottom > config.route_max_obstacle_bottom:
            continue
        poly = footprint_polygon(obj)
        if len(poly) >= 3:
            polys[k] = poly
    return polys


def _floor_cells(floor_xy: np.ndarray, lo: np.ndarray, cell: float, radius: int, shape: tuple[int, int]) -> np.ndarray:
    """The floor cells: those holding a floor point, closed over the points' spacing (``radius`` cells); with no
    points (VSI-Bench metadata) the whole grid but its border."""
    from scipy.ndimage import binary_closing

    if len(floor_xy) < 4:
        free = np.ones(shape, dtype=bool)
        free[[0, -1], :] = free[:, [0, -1]] = False
        return free
    free = np.zeros(shape, dtype=bool)
    rc = np.round((floor_xy - lo) / cell).astype(int)
    free[rc[:, 1], rc[:, 0]] = True
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return binary_closing(free, structure=xx**2 + yy**2 <= radius**2)


def _rasterise_footprints(grid: OccupancyGrid, polys: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Fill ``grid.footprints`` (cells inside each polygon) and return the solid masks: the footprints with their
    boundary cells, so thin objects never vanish."""
    h, w = grid.free.shape
    lo, cell = grid.origin, grid.cell
    cx, cy = np.meshgrid(lo[0] + cell * np.arange(w), lo[1] + cell * np.arange(h))
    solid: dict[int, np.ndarray] = {}
    for k, poly in polys.items():
        mask = np.zeros((h, w), dtype=bool)
        c0, r0 = np.floor((poly.min(0) - lo) / cell).astype(int)
        c1, r1 = np.ceil((poly.max(0) - lo) / cell).astype(int) + 1
        r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)
        window = np.c_[cx[r0:r1, c0:c1].ravel(), cy[r0:r1, c0:c1].ravel()]
        mask[r0:r1, c0:c1] = _inside_convex(window, poly).reshape(r1 - r0, c1 - c0)
        grid.footprints[k] = mask.copy()
        edges = np.roll(poly, -1, axis=0) - poly
        for p, e in zip(poly, edges, strict=True):
            n = max(2, math.ceil(float(np.linalg.norm(e)) / (cell / 4)) + 1)
            rows, cols = grid.cells(p[None] + np.linspace(0, 1, n)[:, None] * e[None])
            mask[rows, cols] = True
        solid[k] = mask
    return solid
