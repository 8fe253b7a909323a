"""The route-planning part of the synthetic scenes' answer key: exact leg clearances from the true rectangles.

Independent of the generator's occupancy grid (:mod:`~spatial_r1_eval.generation.routes`): the free-space check
uses shapely on the exact furniture rectangles and the exact floor polygon. For every pair of furniture items
whose category is unique in the scene, the straight leg between their centres is cut where it runs inside either
item's own footprint; the rest's distance to every other item's footprint and to the outside of the room is the
leg's ``clearance_m`` (``None`` when nothing of the leg lies outside the two footprints).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def exact_leg_clearance(a: np.ndarray, b: np.ndarray, own: Sequence, others: Sequence, room) -> float | None:
    """Exact clearance (m) of the segment a→b outside the ``own`` shapely polygons, to ``others`` and the outside
    of the shapely polygon ``room``; ``None`` when the segment lies within ``own``.

    Example:
        >>> from shapely.geometry import box
        >>> room = box(0, 0, 4, 3)
        >>> own = [box(0.5, 0.5, 1.0, 1.0), box(3.0, 0.5, 3.5, 1.0)]
        >>> a, b = np.array([0.75, 0.75]), np.array([3.25, 0.75])
        >>> round(exact_leg_clearance(a, b, own, [box(2, 1.2, 2.5, 2)], room), 6)
        0.45
    """
    from shapely.geometry import LineString, box
    from shapely.ops import unary_union

    rest = LineString([tuple(a[:2]), tuple(b[:2])]).difference(unary_union(list(own)))
    if rest.is_empty or rest.length < 1e-9:
        return None
    minx, miny, maxx, maxy = room.bounds
    outside = box(minx - 1, miny - 1, maxx + 1, maxy + 1).difference(room)
    return float(rest.distance(unary_union([*others, outside])))


def route_legs(room_polygon: np.ndarray, items: Sequence[dict]) -> list[dict]:
    """Answer-key legs between the items with a unique label.

    Args:
        room_polygon: (k, 2) floor polygon (aligned frame).
        items: ``{"object_id", "label", "footprint": (4, 2) corners, "centre": (2,)}`` per furniture item.

    Returns:
        ``{"a", "b", "a_label", "b_label", "length_m", "clearance_m"}`` per pair (``a < b`` by id), rounded to 1e-6.
    """
    from shapely.geometry import MultiPoint, Polygon

    room = Polygon([tuple(p) for p in room_polygon])
    polys = {it["object_id"]: MultiPoint([tuple(p) for p in it["footprint"]]).convex_hull for it in items}
    labels = [it["label"] for it in items]
    unique = [it for it in items if labels.count(it["label"]) == 1]
    out = []
    for i, x in enumerate(unique):
        for y in unique[i + 1 :]:
            others = [p for oid, p in polys.items() if oid not in (x["object_id"], y["object_id"])]
            ca, cb = np.asarray(x["centre"], float), np.asarray(y["centre"], float)
            clear = exact_leg_clearance(ca, cb, [polys[x["object_id"]], polys[y["object_id"]]], others, room)
            out.append({
                "a": x["object_id"], "b": y["object_id"], "a_label": x["label"], "b_label": y["label"],
                "length_m": round(float(np.linalg.norm(cb - ca)), 6),
                "clearance_m": None if clear is None else round(clear, 6),
            })  # fmt: skip
    return out
