"""Readers (and the writers synthetic scenes need) for the per-scene ScanNet files; pure functions, NumPy out.

One function per format of a ScanNet v2 scan folder ``scans/<scene>/``:

================================================  =====================================================
file                                              reader
================================================  =====================================================
``<scene>_vh_clean_2.ply``                        :func:`read_ply` (binary PLY: x y z red green blue alpha
                                                  + triangle faces)
``<scene>_vh_clean_2.labels.ply``                 :func:`read_ply` (same, plus a ``label`` vertex property)
``<scene>_vh_clean_2.0.010000.segs.json``         :func:`read_segs` (``segIndices``: one segment id per vertex)
``<scene>.aggregation.json``                      :func:`read_aggregation` (``segGroups``: id, objectId, label,
                                                  segments)
``<scene>.txt``                                   :func:`read_scene_info` + :func:`axis_alignment`
``scannetv2-labels.combined.tsv`` (ScanNet root)  :func:`read_label_map` (also the older
                                                  ``scannet-labels.combined.tsv``)
================================================  =====================================================

Every reader reports bad input (missing file, truncated or malformed content) as a one-line
``FileNotFoundError`` / ``ValueError`` whose message starts with the file path.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spatial_r1_eval.files import atomic_open, require_file
from spatial_r1_eval.generation.ply import PlyMesh, read_ply, write_ply

PathLike = str | os.PathLike[str]

__all__ = [
    "LabelMap",
    "PlyMesh",
    "SegGroup",
    "axis_alignment",
    "find_label_maps",
    "is_scene_name",
    "read_aggregation",
    "read_label_map",
    "read_ply",
    "read_scene_info",
    "read_segs",
    "write_aggregation",
    "write_ply",
    "write_segs",
]

# ------------------------------------------------------------------------------------------ segs / aggregation


def _read_json_object(path: PathLike) -> dict:
    path = require_file(path)
    try:
        obj = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: malformed JSON: {str(e).splitlines()[0]}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def read_segs(path: PathLike) -> np.ndarray:
    """Read ``<scene>_vh_clean_2.0.010000.segs.json``: the over-segmentation, one segment id per mesh vertex.

    Returns:
        (N,) ``int64`` segment ids, N = number of vertices of ``_vh_clean_2.ply``.

    Raises:
        FileNotFoundError, ValueError: missing file, malformed JSON, no ``segIndices`` list of integers.

    Example:
        >>> import tempfile, pathlib, json
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.segs.json"
        >>> _ = p.write_text(json.dumps({"sceneId": "x", "segIndices": [4, 4, 7]}))
        >>> read_segs(p).tolist()
        [4, 4, 7]
    """
    obj = _read_json_object(path)
    seg = obj.get("segIndices")
    if not isinstance(seg, list):
        raise ValueError(f"{path}: field 'segIndices' missing or not a list")
    arr = _int_array(seg)
    if arr is None:
        raise ValueError(f"{path}: field 'segIndices' must be a flat list of integers")
    return arr


def _int_array(values: object) -> np.ndarray | None:
    """``values`` as a 1-D ``int64`` array, or ``None`` unless it is a flat list of JSON integers (no floats,
    strings or booleans, which ``np.asarray(..., dtype=np.int64)`` would silently convert)."""
    if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        return None
    try:
        return np.asarray(values, dtype=np.int64).reshape(-1)
    except OverflowError:
        return None


@dataclass(frozen=True)
class SegGroup:
    """One annotated instance of ``<scene>.aggregation.json``.

    Attributes:
        id: The group's ``id``.
        object_id: ``objectId`` (instance id; ``id`` and ``objectId`` coincide in ScanNet).
        label: The raw annotation label (e.g. ``"trashcan"``), normalise it with :class:`LabelMap`.
        segments: (K,) ``int64`` segment ids (values of ``segIndices``) that make up the instance.
    """

    id: int
    object_id: int
    label: str
    segments: np.ndarray


def read_aggregation(path: PathLike) -> list[SegGroup]:
    """Read ``<scene>.aggregation.json`` (``segGroups``: id, objectId, label, segments), in file order.

    Raises:
        FileNotFoundError, ValueError: missing file, malformed JSON, a group without one of the four fields, a
            group with an empty ``segments`` list (an instance without geometry).

    Example:
        >>> import tempfile, pathlib, json
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.aggregation.json"
        >>> g = {"id": 0, "objectId": 0, "label": "chair", "segments": [4, 7]}
        >>> _ = p.write_text(json.dumps({"sceneId": "x", "segGroups": [g]}))
        >>> [(s.object_id, s.label, s.segments.tolist()) for s in read_aggregation(p)]
        [(0, 'chair', [4, 7])]
    """
    obj = _read_json_object(path)
    groups = obj.get("segGroups")
    if not isinstance(groups, list):
        raise ValueError(f"{path}: field 'segGroups' missing or not a list")
    out = []
    for i, g in enumerate(groups):
        segments = _int_array(g.get("segments")) if isinstance(g, dict) else None
        if segments is None or not isinstance(g.get("label"), str):
            raise ValueError(f"{path}: segGroups[{i}] needs integer 'id', string 'label' and integer 'segments'")
        try:
            group = SegGroup(int(g["id"]), int(g.get("objectId", g["id"])), g["label"], segments)
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                f"{path}: segGroups[{i}] needs integer 'id', string 'label' and integer 'segments'"
            ) from None
        if len(segments) == 0:
            raise ValueError(f"{path}: segGroups[{i}] (id {group.id}, {group.label!r}) has no segments")
        out.append(group)
    return out


def write_segs(path: PathLike, scene_id: str, seg_indices: np.ndarray) -> None:
    """Write a ``*.segs.json`` like ScanNet's (``params``, ``sceneId``, ``segIndices``), atomically."""
    obj = {
        "params": {"kThresh": "0.0001", "segMinVerts": "20", "minPoints": "750", "maxPoints": "30000"},
        "sceneId": scene_id,
        "segIndices": [int(s) for s in seg_indices],
    }
    with atomic_open(path) as f:
        json.dump(obj, f, separators=(",", ":"))


def write_aggregation(path: PathLike, scene_id: str, groups: list[SegGroup]) -> None:
    """Write a ``*.aggregation.json`` like ScanNet's (``sceneId``, ``appId``, ``segGroups``, ``segmentsFile``)."""
    obj = {
        "sceneId": scene_id,
        "appId": "Aggregator.v1",
        "segGroups": [
            {"id": g.id, "objectId": g.object_id, "segments": [int(s) for s in g.segments], "label": g.label}
            for g in groups
        ],
        "segmentsFile": f"scannet.{scene_id}_vh_clean_2.0.010000.segs.json",
    }
    with atomic_open(path) as f:
        json.dump(obj, f, indent="\t")


# ------------------------------------------------------------------------------------------------ scene .txt


def read_scene_info(path: PathLike) -> dict[str, str]:
    """Read ``<scene>.txt`` (lines ``key = value``) into a dict of strings.

    Raises:
        FileNotFoundError, ValueError: missing file, or a non-empty line without ``=``.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.txt"
        >>> _ = p.write_text("sceneType = Bedroom / Hotel\\ncolorWidth = 1296\\n")
        >>> read_scene_info(p)["sceneType"]
        'Bedroom / Hotel'
    """
    path = require_file(path)
    out: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{path}:{lineno}: expected 'key = value', got {line.strip()!r}")
        out[key.strip()] = value.strip()
    return out


def axis_alignment(info: dict[str, str], source: PathLike = "<scene>.txt") -> np.ndarray:
    """The (4, 4) ``axisAlignment`` matrix (16 floats, row-major) of a scene; identity when absent.

    It maps raw homogeneous scan coordinates to the axis-aligned frame: ``aligned = A @ [x, y, z, 1]``.

    Example:
        >>> axis_alignment({}).tolist() == np.eye(4).tolist()
        True
        >>> axis_alignment({"axisAlignment": "0 -1 0 1 1 0 0 2 0 0 1 0 0 0 0 1"})[0].tolist()
        [0.0, -1.0, 0.0, 1.0]
    """
    value = info.get("axisAlignment")
    if value is None:
        return np.eye(4)
    try:
        numbers = [float(v) for v in value.split()]
    except ValueError:
        raise ValueError(f"{source}: axisAlignment must be 16 numbers, got {value!r}") from None
    if len(numbers) != 16 or not np.all(np.isfinite(numbers)):
        raise ValueError(f"{source}: axisAlignment must be 16 finite numbers, got {len(numbers)} values")
    return np.asarray(numbers, dtype=np.float64).reshape(4, 4)


# ------------------------------------------------------------------------------------------------- label TSV

V2_TSV_NAME = "scannetv2-labels.combined.tsv"
OLD_TSV_NAME = "scannet-labels.combined.tsv"


@dataclass(frozen=True)
class LabelMap:
    """A ScanNet label TSV: raw annotation labels -> canonical categories, and label ids -> categories.

    v2 (``scannetv2-labels.combined.tsv``): ``raw_category`` -> ``category`` (e.g. ``"trash can"`` ->
    ``"trash can"``, ``"bookshelves"`` -> ``"bookshelf"``). The older ``scannet-labels.combined.tsv`` has
    one ``category`` column: its labels are already canonical and map to themselves. Labels found in
    neither column (e.g. ``"dishrack"`` in scene0000_00) keep their raw name (see :meth:`normalize`).

    Attributes:
        raw_to_category: raw label -> canonical category.
        id_to_category: ScanNet label id (TSV ``id``; the values of ``label-filt`` PNGs and ``*.labels.ply``)
            -> canonical category.
        category_to_id: canonical category -> its (first) label id.
        nyu40class: canonical category -> NYU40 class name (empty when the TSV has none).
        source: ``"v2"`` or ``"old"``.
        path: The TSV file read.
    """

    raw_to_category: dict[str, str]
    id_to_category: dict[int, str]
    category_to_id: dict[str, int]
    nyu40class: dict[str, str]
    source: str
    path: str = ""

    def normalize(self, raw_label: str) -> str:
        """Canonical category of a raw label; unknown labels keep their raw name (stripped), never dropped."""
        label = raw_label.strip()
        return self.raw_to_category.get(label) or self.raw_to_category.get(label.lower()) or label

    def knows(self, raw_label: str) -> bool:
        """Whether the TSV lists ``raw_label``."""
        label = raw_label.strip()
        return label in self.raw_to_category or label.lower() in self.raw_to_category


_LABEL_MAP_CACHE: dict[tuple[str, int, int], LabelMap] = {}


def read_label_map(path: PathLike) -> LabelMap:
    """Read a ScanNet label TSV, v2 (``raw_category`` + ``category``) or the older one (``category`` only).

    Raises:
        FileNotFoundError, ValueError: missing file, no ``id``/``category`` columns, non-integer ``id``.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "scannetv2-labels.combined.tsv"
        >>> _ = p.write_text("id\\traw_category\\tcategory\\tnyu40class\\n18\\tbookshelves\\tbookshelf\\tbookshelf\\n")
        >>> m = read_label_map(p)
        >>> m.normalize("bookshelves"), m.id_to_category[18], m.normalize("dishrack"), m.source
        ('bookshelf', 'bookshelf', 'dishrack', 'v2')
    """
    path = require_file(path)
    stat = path.stat()
    cache_key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)  # a TSV is read once per process
    if cache_key not in _LABEL_MAP_CACHE:
        _LABEL_MAP_CACHE[cache_key] = _parse_label_map(path)
    return _LABEL_MAP_CACHE[cache_key]


def _parse_label_map(path: Path) -> LabelMap:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        columns = reader.fieldnames or []
        if "id" not in columns or "category" not in columns:
            raise ValueError(f"{path}: label TSV needs 'id' and 'category' columns, has {columns}")
        source = "v2" if "raw_category" in columns else "old"
        raw_to_category: dict[str, str] = {}
        id_to_category: dict[int, str] = {}
        category_to_id: dict[str, int] = {}
        nyu40: dict[str, str] = {}
        for lineno, row in enumerate(reader, 2):
            category = (row.get("category") or "").strip()
            raw = (row.get("raw_category") or "").strip() if source == "v2" else category
            try:
                label_id = int((row.get("id") or "").strip())
            except ValueError:
                raise ValueError(f"{path}:{lineno}: 'id' must be an integer, got {row.get('id')!r}") from None
            if not category:
                continue
            raw_to_category.setdefault(raw, category)
            raw_to_category.setdefault(raw.lower(), category)
            id_to_category.setdefault(label_id, category)
            category_to_id.setdefault(category, label_id)
            nyu40.setdefault(category, (row.get("nyu40class") or "").strip())
    return LabelMap(raw_to_category, id_to_category, category_to_id, nyu40, source, str(path))


def find_label_maps(scannet_root: PathLike) -> list[Path]:
    """The label TSVs present in a ScanNet root (v2 first, then the older one).

    Example:
        >>> find_label_maps("/nonexistent")
        []
    """
    root = Path(scannet_root)
    return [root / name for name in (V2_TSV_NAME, OLD_TSV_NAME) if (root / name).is_file()]


_SCENE_RE = re.compile(r"^scene\d{4}_\d{2}$")


def is_scene_name(name: str) -> bool:
    """Whether ``name`` looks like a ScanNet scan id (``sceneXXXX_XX``).

    Example:
        >>> is_scene_name("scene0000_00"), is_scene_name("answer_key.json")
        (True, False)
    """
    return bool(_SCENE_RE.match(name))
