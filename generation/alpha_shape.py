"""2-D alpha shapes for the room-size task: fast, and equal to the ``alphashape`` package.

The ``alphashape`` package (used by VSI-Bench for room size) keeps every Delaunay triangle whose circumradius is
``< 1 / alpha``, collects the edges of the kept triangles, polygonises them with shapely and unions the faces.
Every bounded face of that edge graph becomes part of the result, so its polygon is the union of the kept
triangles *with all holes filled* (a region of dropped triangles enclosed by kept ones is a bounded face too).
We compute the same area directly from the triangulation: kept triangles, plus every connected group of dropped
triangles (connected through shared edges) that never reaches the convex hull. No shapely, no Python loop over
triangles: ≥ 10× faster (``benchmarks/alpha_shape.py``) and equal to ``alphashape(points, alpha).area`` to 1e-6.

The paper's room area is the *sum of the alpha shape's triangle areas* (holes are not filled):
:func:`alpha_shape_area` with ``fill_holes=False``.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, QhullError

logger = logging.getLogger(__name__)


def circumradii(tri_points: np.ndarray) -> np.ndarray:
    """Circumradius of each 2-D triangle; ``inf`` for degenerate (collinear) triangles.

    Args:
        tri_points: (T, 3, 2) triangle vertices.

    Example:
        >>> circumradii(np.array([[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]])).round(6).tolist()
        [1.414214]
    """
    a = tri_points[:, 1] - tri_points[:, 0]
    b = tri_points[:, 2] - tri_points[:, 0]
    d = 2.0 * (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    a2, b2 = np.sum(a * a, axis=1), np.sum(b * b, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ux = (b[:, 1] * a2 - a[:, 1] * b2) / d
        uy = (a[:, 0] * b2 - b[:, 0] * a2) / d
        r = np.sqrt(ux * ux + uy * uy)
    return np.where(d != 0.0, r, np.inf)


def _triangle_areas(tri_points: np.ndarray) -> np.ndarray:
    a = tri_points[:, 1] - tri_points[:, 0]
    b = tri_points[:, 2] - tri_points[:, 0]
    return 0.5 * np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])


def _convex_hull_area(points: np.ndarray) -> float:
    from scipy.spatial import ConvexHull

    try:
        return float(ConvexHull(points).volume)
    except (QhullError, ValueError):
        return 0.0  # fewer than 3 distinct points or all collinear: a point or a segment


def alpha_shape_area(points: np.ndarray, alpha: float, *, fill_holes: bool = True) -> float:
    """Area of the 2-D alpha shape of ``points``.

    Args:
        points: (N, 2) points (or (N, 3): only x, y are used), metres.
        alpha: Triangles with circumradius ``< 1 / alpha`` are kept (the ``alphashape`` convention);
            ``alpha <= 0`` or fewer than 4 points gives the convex hull, as ``alphashape`` does.
        fill_holes: ``True`` = the area of ``alphashape.alphashape(points, alpha)`` (VSI-Bench's room size);
            ``False`` = the sum of the kept triangles' areas (the paper's room size).

    Returns:
        Area in square units of the input (m²).

    Example:
        >>> g = np.stack(np.meshgrid(np.arange(11.0), np.arange(11.0)), -1).reshape(-1, 2) / 10
        >>> round(alpha_shape_area(g, alpha=5.0), 6)
        1.0
        >>> ring = g[(np.abs(g[:, 0] - 0.5) > 0.35) | (np.abs(g[:, 1] - 0.5) > 0.35)]
        >>> round(alpha_shape_area(ring, 5.0), 6), round(alpha_shape_area(ring, 5.0, fill_holes=False), 6)
        (1.0, 0.44)
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] < 2:
        raise ValueError(f"alpha_shape_area needs an (N, 2) array of points, got shape {pts.shape}")
    pts = pts[:, :2]
    if len(pts) < 4 or alpha <= 0:
        return _convex_hull_area(pts)
    try:
        tri = Delaunay(pts)
    except QhullError:
        return 0.0  # all points collinear: alphashape's polygonize gives an empty geometry
    tri_points = pts[tri.simplices]
    kept = circumradii(tri_points) < 1.0 / alpha
    areas = _triangle_areas(tri_points)
    total = float(np.sum(areas[kept]))
    if not fill_holes:
        return total
    dropped = np.flatnonzero(~kept)
    if len(dropped) == 0:
        return total
    # Components of dropped triangles joined through shared edges; those touching the hull are outside.
    index = np.full(len(kept), -1)
    index[dropped] = np.arange(len(dropped))
    nb = tri.neighbors[dropped]  # (D, 3), -1 = hull edge
    src = np.repeat(np.arange(len(dropped)), 3)
    dst_tri = nb.ravel()
    link = (dst_tri >= 0) & (index[np.maximum(dst_tri, 0)] >= 0)
    graph = coo_matrix(
        (np.ones(int(link.sum())), (src[link], index[dst_tri[link]])), shape=(len(dropped), len(dropped))
    )
    _, labels = connected_components(graph, directed=False)
    outside = np.zeros(labels.max() + 1, dtype=bool)
    outside[labels[np.any(nb < 0, axis=1)]] = True
    return total + float(np.sum(areas[dropped][~outside[labels]]))


def floor_points(points: np.ndarray, floor_height: float = 0.10) -> np.ndarray:
    """Points whose z lies within ``floor_height`` metres above the scene's lowest point.

    Example:
        >>> floor_points(np.array([[0, 0, 0.0], [1, 0, 0.05], [0, 1, 1.0]])).tolist()
        [[0.0, 0.0, 0.0], [1.0, 0.0, 0.05]]
    """
    pts = np.asarray(points, dtype=float)
    if len(pts) == 0:
        return pts.reshape(0, 3)
    return pts[pts[:, 2] <= pts[:, 2].min() + floor_height]


def room_area_paper(points: np.ndarray, *, floor_height: float = 0.10, alpha: float = 2.0) -> float:
    """The paper's room area: floor points → 2-D alpha shape → sum of its triangles' areas (m²).

    Example:
        >>> g = np.stack(np.meshgrid(np.arange(31.0), np.arange(21.0)), -1).reshape(-1, 2) / 10
        >>> pts = np.c_[g, np.zeros(len(g))]
        >>> round(room_area_paper(pts), 6)
        6.0
    """
    return alpha_shape_area(floor_points(points, floor_height), alpha, fill_holes=False)


def room_area_vsibench(
    points: np.ndarray, *, rng: np.random.Generator | None = None, n_samples: int = 10_000, alpha: float = 5.0
) -> float:
    """VSI-Bench's room area: ``n_samples`` scene points drawn with replacement, x/y alpha shape (alpha 5) area.

    Example:
        >>> g = np.stack(np.meshgrid(np.arange(31.0), np.arange(21.0)), -1).reshape(-1, 2) / 10
        >>> round(room_area_vsibench(np.c_[g, np.ones(len(g))], rng=np.random.default_rng(0), n_samples=5000), 1)
        6.0
    """
    pts = np.asarray(points, dtype=float)
    rng = rng if rng is not None else np.random.default_rng(0)
    sample = pts[rng.integers(0, len(pts), size=n_samples), :2]
    return alpha_shape_area(sample, alpha, fill_holes=True)
