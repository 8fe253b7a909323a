"""The scene model every SR generator consumes.

A :class:`Scene` is what remains of a ScanNet scan after reading and axis alignment: the aligned point
cloud, one :class:`SceneObject` per annotated instance (canonical category label, points, axis-aligned and
minimal oriented boxes) and, lazily, the camera frames. The same model is built from VSI-Bench's
``meta_info`` (boxes only, no points or frames), so the ``vsibench`` variants of the generators can be
checked against the benchmark's own answers.

Conventions (all arrays are NumPy):

- coordinates are metres, in the axis-aligned scene frame (``axisAlignment`` applied), z up;
- points are ``float64`` arrays of shape ``(N, 3)``;
- an oriented box is ``centroid`` (3,), ``axes_lengths`` (3,) and ``axes`` (3, 3) whose *rows* are unit
  vectors (VSI-Bench's ``normalizedAxes`` reshaped row-major); the box is
  ``{centroid + sum_i t_i * axes[i] : |t_i| <= axes_lengths[i] / 2}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Structural or ill-defined labels that never become question targets (room structure, "object", "misc", ...).
#: The synthetic scenes (:mod:`~spatial_r1_eval.generation.synth`) use three of them, ``wall``, ``floor`` and
#: ``ceiling``, and mark exactly those objects ``structural`` in their answer key.
STRUCTURAL_LABELS = frozenset(
    {
        "wall",
        "walls",
        "floor",
        "ceiling",
        "object",
        "objects",
        "otherstructure",
        "otherfurniture",
        "otherprop",
        "structure",
        "remove",
        "unknown",
        "unlabeled",
        "unlabelled",
        "misc",
        "stuff",
    }
)

#: (8, 3) sign pattern of a box's corners, x slowest: ``(-1, -1, -1), (-1, -1, 1), ..., (1, 1, 1)``.
CORNER_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=float)


@dataclass(frozen=True)
class AxisAlignedBox:
    """Axis-aligned box in the aligned scene frame; ``min`` and ``max`` are (3,) arrays in metres."""

    min: np.ndarray
    max: np.ndarray

    @property
    def centroid(self) -> np.ndarray:
        return (self.min + self.max) / 2.0

    @property
    def size(self) -> np.ndarray:
        """(3,) side lengths in metres."""
        return self.max - self.min


@dataclass(frozen=True)
class OrientedBox:
    """Oriented box: ``centroid`` (3,), ``axes_lengths`` (3,) full side lengths (m), ``axes`` (3, 3) unit rows."""

    centroid: np.ndarray
    axes_lengths: np.ndarray
    axes: np.ndarray

    def corners(self) -> np.ndarray:
        """(8, 3) corner points; corner k = ``centroid + sum_i CORNER_SIGNS[k, i] * axes_lengths[i] / 2 * axes[i]``."""
        return self.centroid + (CORNER_SIGNS * (self.axes_lengths / 2.0)) @ self.axes


@dataclass
class SceneObject:
    """One annotated instance.

    Attributes:
        object_id: Instance id (ScanNet ``objectId``; for VSI-Bench metadata the index within its category).
        label: Canonical category name (normalised through the label TSV), e.g. ``"chair"``.
        raw_label: The label as annotated (aggregation ``label``).
        aabb: Axis-aligned box of the instance points.
        obb: Minimal oriented box (gravity-aligned: rotation about z only) of the instance points.
        points: (N, 3) aligned instance points in metres, or ``None`` when only boxes are known.
    """

    object_id: int
    label: str
    raw_label: str
    aabb: AxisAlignedBox
    obb: OrientedBox
    points: np.ndarray | None = None


@dataclass
class Frame:
    """One camera frame of the scan's RGB-D stream; images are decoded lazily.

    Attributes:
        index: Frame index in the original stream (``.sens`` order, 30 fps for ScanNet).
        timestamp: Seconds from the first frame.
        pose: (4, 4) camera-to-world in the *aligned* scene frame (always finite: frames whose ``.sens`` pose has
            inf/NaN are not loaded).
        intrinsics: (3, 3) colour camera intrinsics.
        load_color: Callable returning an (H, W, 3) ``uint8`` RGB image.
        load_labels: Callable returning an (H, W) integer image of ScanNet label ids (``label-filt``), or None.
        load_color_reduced: Callable ``(width, height) -> (h, w, 3) uint8`` decoding the colour image at reduced
            scale, still at least that size (JPEG DCT scaling), or None (only full-size decoding).
    """

    index: int
    timestamp: float
    pose: np.ndarray
    intrinsics: np.ndarray
    load_color: Callable[[], np.ndarray]
    load_labels: Callable[[], np.ndarray] | None = None
    load_color_reduced: Callable[[tuple[int, int]], np.ndarray] | None = None


@dataclass
class Scene:
    """An axis-aligned scene.

    Attributes:
        name: Scene id, e.g. ``"scene0000_00"``.
        objects: Annotated instances (structural labels included; generators filter them).
        points: (N, 3) aligned scene points in metres (all vertices), or ``None`` (VSI-Bench metadata).
        colors: (N, 3) ``uint8`` vertex colours, or ``None``.
        axis_alignment: (4, 4) matrix applied to the raw coordinates (identity when absent).
        frames: Camera frames in stream order (may be empty: appearance order then cannot be generated).
        fps: Frame rate of ``frames`` (ScanNet ``.sens``: 30).
        label_id_to_category: ScanNet label id (TSV ``id`` column, the values in ``label-filt`` PNGs) →
            canonical category name.
        room_size: Known floor area in m² (VSI-Bench metadata); ``None`` means compute it from ``points``.
        dataset: Source dataset name used in record paths (``"scannet"``).
    """

    name: str
    objects: list[SceneObject]
    points: np.ndarray | None = None
    colors: np.ndarray | None = None
    axis_alignment: np.ndarray = field(default_factory=lambda: np.eye(4))
    frames: Sequence[Frame] = ()
    fps: float = 30.0
    label_id_to_category: dict[int, str] = field(default_factory=dict)
    room_size: float | None = None
    dataset: str = "scannet"

    def objects_by_label(self) -> dict[str, list[SceneObject]]:
        """Category → its instances, categories in first-seen order."""
        out: dict[str, list[SceneObject]] = {}
        for obj in self.objects:
            out.setdefault(obj.label, []).append(obj)
        return out
