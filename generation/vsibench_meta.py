"""Scenes from VSI-Bench's ``meta_info/*_meta_info_val.json`` (boxes, counts and room size; no points, no frames).

Each category's boxes become :class:`~spatial_r1_eval.generation.scene.SceneObject` instances whose oriented box
is VSI-Bench's (``centroid``, ``axesLengths``, ``normalizedAxes`` as rows) and whose axis-aligned box is its
``min``/``max``. ``object_counts`` is kept as given (a few categories list more boxes than their count, e.g. two
printer boxes with count 1; VSI-Bench then uses the first box for directions and all boxes for distances).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spatial_r1_eval.files import read_json
from spatial_r1_eval.generation.scene import AxisAlignedBox, OrientedBox, Scene, SceneObject


@dataclass
class MetaScene(Scene):
    """A :class:`Scene` built from VSI-Bench metadata, with its ``object_counts`` (category -> instances) and
    ``room_center`` ((3,) or ``None``; route questions that start "at the X facing the X" face X from it)."""

    object_counts: dict[str, int] = field(default_factory=dict)
    room_center: np.ndarray | None = None


def _vec(values: Any, n: int, where: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected {n} finite numbers, got {values!r}") from None
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: expected {n} finite numbers, got {values!r}")
    return arr


def scene_from_meta(name: str, info: dict[str, Any], dataset: str = "scannet", source: str = "<meta>") -> MetaScene:
    """Build a :class:`MetaScene` from one scene entry of a VSI-Bench meta_info file.

    Example:
        >>> box = {"centroid": [0, 0, 0.5], "axesLengths": [1, 2, 1], "normalizedAxes": [1, 0, 0, 0, 1, 0, 0, 0, 1],
        ...        "min": [-0.5, -1, 0], "max": [0.5, 1, 1]}
        >>> s = scene_from_meta("s0", {"room_size": 12.34, "object_counts": {"bed": 1}, "object_bbox": {"bed": [box]}})
        >>> s.objects[0].label, s.object_counts, s.room_size, s.objects[0].obb.axes_lengths.tolist()
        ('bed', {'bed': 1}, 12.34, [1.0, 2.0, 1.0])
    """
    if not isinstance(info, dict):
        raise ValueError(f"{source}: scene {name!r} must be a JSON object, got {type(info).__name__}")
    objects = []
    for category, boxes in (info.get("object_bbox") or {}).items():
        if not isinstance(boxes, list):
            raise ValueError(f"{source}: scene {name!r} category {category!r}: object_bbox must be a list of boxes")
        for k, b in enumerate(boxes):
            where = f"{source}: scene {name!r} category {category!r} box {k}"
            try:
                obb = OrientedBox(
                    _vec(b["centroid"], 3, where + " centroid"),
                    _vec(b["axesLengths"], 3, where + " axesLengths"),
                    _vec(b["normalizedAxes"], 9, where + " normalizedAxes").reshape(3, 3),
                )
                aabb = AxisAlignedBox(_vec(b["min"], 3, where + " min"), _vec(b["max"], 3, where + " max"))
            except KeyError as e:
                raise ValueError(f"{where}: missing field {e.args[0]!r}") from None
            except TypeError:
                raise ValueError(f"{where}: expected an object with centroid, axesLengths, normalizedAxes") from None
            objects.append(SceneObject(k, category, category, aabb, obb))
    try:
        counts = {str(c): int(n) for c, n in (info.get("object_counts") or {}).items()}
        room = None if info.get("room_size") is None else float(info["room_size"])
        centre = None if info.get("room_center") is None else _vec(info["room_center"], 3, f"{source}: room_center")
    except (AttributeError, TypeError, ValueError):
        raise ValueError(
            f"{source}: scene {name!r}: object_counts must map names to integers, room_size a number"
        ) from None
    return MetaScene(
        name=name,
        objects=objects,
        room_size=room,
        dataset=str(info.get("dataset", dataset)),
        object_counts=counts,
        room_center=centre,
    )


def load_meta_dir(meta_dir: str | os.PathLike[str]) -> dict[tuple[str, str], MetaScene]:
    """All scenes of every ``<dataset>_meta_info_val.json`` in ``meta_dir``, keyed by ``(dataset, scene_name)``."""
    meta_dir = Path(meta_dir)
    if not meta_dir.is_dir():
        raise FileNotFoundError(f"{meta_dir}: no such meta_info folder")
    files = sorted(meta_dir.glob("*_meta_info_val.json"))
    if not files:
        raise FileNotFoundError(f"{meta_dir}: no *_meta_info_val.json files")
    scenes: dict[tuple[str, str], MetaScene] = {}
    for path in files:
        dataset = path.name[: -len("_meta_info_val.json")]
        data = read_json(path)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object of scenes, got {type(data).__name__}")
        for name, info in data.items():
            scenes[(dataset, name)] = scene_from_meta(name, info, dataset, str(path))
    return scenes
