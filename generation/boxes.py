"""Bounding boxes of instance point sets: axis-aligned and minimal gravity-aligned oriented boxes.

The oriented box follows VSI-Bench's box fields (``centroid``, ``axesLengths``, ``normalizedAxes`` = the
rows of :attr:`OrientedBox.axes` flattened row-major) but is *gravity-aligned*: it only rotates about z.
Its footprint is the minimum-area rectangle of the 2-D convex hull of the points (rotating calipers: the
optimal rectangle has a side collinear with a hull edge), its height the z-extent. Axis order: ``axes[0]``
is the longer horizontal side (x-component > 0, or +y when |x| <= 1e-6), ``axes[1] = z x axes[0]``,
``axes[2] = +z``.
"""

from __future__ import annotations

import numpy as np

from spatial_r1_eval.generation import geometry
from spatial_r1_eval.generation.scene import AxisAlignedBox, OrientedBox

#: |x-component| below which the first axis counts as vertical (+y chosen), robust to float32 noise
_VERTICAL_EPS = 1e-6

__all__ = ["aabb_from_points", "min_oriented_box", "min_area_rectangle", "aabb_distance_between", "box_to_dict"]


def _check_points(points: np.ndarray, name: str) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"{name} needs a non-empty (N, 3) array of points, got shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{name}: points contain inf/NaN")
    return points


def aabb_from_points(points: np.ndarray) -> AxisAlignedBox:
    """Axis-aligned bounding box of (N, 3) points (metres).

    Example:
        >>> box = aabb_from_points(np.array([[0, 0, 0], [1, 2, 3], [0.5, -1, 1]]))
        >>> box.min.tolist(), box.size.tolist()
        ([0.0, -1.0, 0.0], [1.0, 3.0, 3.0])
    """
    points = _check_points(points, "aabb_from_points")
    return AxisAlignedBox(points.min(axis=0), points.max(axis=0))


def _convex_hull_2d(xy: np.ndarray) -> np.ndarray:
    """Vertices (counter-clockwise) of the 2-D convex hull; degenerate inputs return their extreme points."""
    if len(xy) >= 3:
        from scipy.spatial import ConvexHull, QhullError

        try:
            return xy[ConvexHull(xy).vertices]
        except QhullError:
            pass  # fewer than 3 distinct points, or collinear
    uniq = np.unique(xy, axis=0)
    if len(uniq) == 1:
        return uniq
    # collinear (or two points): the two extreme points along the principal direction
    centred = uniq - uniq.mean(axis=0)
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]
    t = centred @ direction
    return uniq[[int(np.argmin(t)), int(np.argmax(t))]]


def min_area_rectangle(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-area enclosing rectangle of 2-D points (rotating calipers over the convex hull edges).

    Args:
        xy: (N, 2) points.

    Returns:
        ``(center (2,), lengths (2,), axes (2, 2))``: rows of ``axes`` are the unit side directions, the first
        one along the longer side, with a positive x-component (or +y when it is vertical).

    Example:
        >>> c, l, a = min_area_rectangle(np.array([[0, 0], [2, 0], [2, 1], [0, 1], [1, 0.5]]))
        >>> c.round(6).tolist(), l.round(6).tolist(), a.round(6).tolist()
        ([1.0, 0.5], [2.0, 1.0], [[1.0, 0.0], [-0.0, 1.0]])
    """
    hull = _convex_hull_2d(np.asarray(xy, dtype=np.float64))
    if len(hull) == 1:
        return hull[0].copy(), np.zeros(2), np.eye(2)
    edges = np.roll(hull, -1, axis=0) - hull
    angles = np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2)
    angles = np.unique(np.round(angles, 12))
    cos, sin = np.cos(angles), np.sin(angles)
    u = np.stack([cos, sin], axis=1)  # (k, 2) first side direction per candidate
    v = np.stack([-sin, cos], axis=1)
    pu, pv = hull @ u.T, hull @ v.T  # (m, k)
    wu, wv = pu.max(axis=0) - pu.min(axis=0), pv.max(axis=0) - pv.min(axis=0)
    best = int(np.argmin(wu * wv))
    cu = (pu[:, best].max() + pu[:, best].min()) / 2
    cv = (pv[:, best].max() + pv[:, best].min()) / 2
    center = cu * u[best] + cv * v[best]
    lengths = np.array([wu[best], wv[best]])
    axes = np.stack([u[best], v[best]])
    if lengths[1] > lengths[0]:
        lengths, axes = lengths[::-1].copy(), axes[::-1].copy()
    if axes[0, 0] < -_VERTICAL_EPS or (abs(axes[0, 0]) <= _VERTICAL_EPS and axes[0, 1] < 0):
        axes[0] = -axes[0]
    axes[1] = np.array([-axes[0, 1], axes[0, 0]])  # z x axes[0]
    return center, lengths, axes


def min_oriented_box(points: np.ndarray) -> OrientedBox:
    """Minimal gravity-aligned oriented box of (N, 3) points: min-area footprint rectangle x z-extent.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> local = rng.uniform(-0.5, 0.5, (500, 3)) * [2.0, 1.0, 0.5]
        >>> corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * [1, .5, .25]
        >>> t = np.deg2rad(30); rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
        >>> box = min_oriented_box(np.vstack([local, corners]) @ rot.T + [1, 2, 3])
        >>> box.axes_lengths.round(6).tolist(), box.centroid.round(6).tolist()
        ([2.0, 1.0, 0.5], [1.0, 2.0, 3.0])
        >>> round(float(np.degrees(np.arctan2(box.axes[0, 1], box.axes[0, 0]))), 6)
        30.0
    """
    points = _check_points(points, "min_oriented_box")
    center, lengths, axes2 = min_area_rectangle(points[:, :2])
    zmin, zmax = points[:, 2].min(), points[:, 2].max()
    axes = np.zeros((3, 3))
    axes[:2, :2] = axes2
    axes[2, 2] = 1.0
    return OrientedBox(
        centroid=np.array([center[0], center[1], (zmin + zmax) / 2]),
        axes_lengths=np.array([lengths[0], lengths[1], zmax - zmin]),
        axes=axes,
    )


def aabb_distance_between(a: AxisAlignedBox, b: AxisAlignedBox) -> float:
    """Exact minimum Euclidean distance between two axis-aligned boxes (0 when they touch or overlap), metres.

    A thin wrapper of :func:`spatial_r1_eval.generation.geometry.aabb_distance` (the one implementation, on arrays of
    corners) for two box objects.

    Example:
        >>> a = AxisAlignedBox(np.zeros(3), np.ones(3))
        >>> b = AxisAlignedBox(np.array([4.0, 5.0, 0.5]), np.array([5.0, 6.0, 2.0]))
        >>> aabb_distance_between(a, b)
        5.0
    """
    return float(geometry.aabb_distance(a.min, a.max, b.min, b.max))


def box_to_dict(aabb: AxisAlignedBox, obb: OrientedBox) -> dict[str, list[float]]:
    """VSI-Bench ``object_bbox`` entry: ``centroid``, ``axesLengths``, ``normalizedAxes`` (rows), ``min``, ``max``.

    Example:
        >>> pts = np.array([[0, 0, 0], [2, 1, 1.0]])
        >>> sorted(box_to_dict(aabb_from_points(pts), min_oriented_box(pts)))
        ['axesLengths', 'centroid', 'max', 'min', 'normalizedAxes']
    """
    return {
        "centroid": [float(v) for v in obb.centroid],
        "axesLengths": [float(v) for v in obb.axes_lengths],
        "normalizedAxes": [float(v) for v in obb.axes.reshape(-1)],
        "min": [float(v) for v in aabb.min],
        "max": [float(v) for v in aabb.max],
    }
