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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spatial_r1_eval.files import atomic_open

PathLike = str | os.PathLike[str]

#: PLY scalar type names -> NumPy type codes (without byte order).
_PLY_TYPES = {
    "char": "i1",
    "int8": "i1",
    "uchar": "u1",
    "uint8": "u1",
    "short": "i2",
    "int16": "i2",
    "ushort": "u2",
    "uint16": "u2",
    "int": "i4",
    "int32": "i4",
    "uint": "u4",
    "uint32": "u4",
    "float": "f4",
    "float32": "f4",
    "double": "f8",
    "float64": "f8",
}


def _require_file(path: PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path


# ----------------------------------------------------------------------------------------------------- PLY


@dataclass
class _PlyElement:
    name: str
    count: int
    properties: list[tuple[str, str]] = field(default_factory=list)  # (name, numpy code) for scalars
    list_property: tuple[str, str, str] | None = None  # (name, count code, item code)


@dataclass
class PlyMesh:
    """A triangle mesh as stored in a ScanNet PLY.

    Attributes:
        vertices: (N, 3) ``float64`` vertex positions in metres (raw scan coordinates, before alignment).
        colors: (N, 3) ``uint8`` RGB vertex colours, or ``None`` when the file has none.
        faces: (F, 3) ``int64`` vertex indices of the triangles (polygons with more corners are fan-triangulated);
            shape (0, 3) when the file has no faces.
        labels: (N,) ``int64`` per-vertex ScanNet label ids (the ``label`` property of ``*.labels.ply``), or ``None``.
        properties: every vertex property by name, as stored (e.g. ``alpha``), 1-D arrays of length N.
    """

    vertices: np.ndarray
    colors: np.ndarray | None
    faces: np.ndarray
    labels: np.ndarray | None
    properties: dict[str, np.ndarray]


def _parse_ply_header(path: Path, data: bytes) -> tuple[str, list[_PlyElement], int]:
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise ValueError(f"{path}: not a PLY file (no 'ply' magic or no 'end_header')")
    body_start = data.find(b"\n", end) + 1
    if body_start <= 0:
        raise ValueError(f"{path}: truncated PLY header")
    fmt = ""
    elements: list[_PlyElement] = []
    for raw in data[:end].decode("ascii", errors="replace").splitlines()[1:]:
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        try:
            if words[0] == "format":
                fmt = words[1]
            elif words[0] == "element":
                elements.append(_PlyElement(words[1], int(words[2])))
            elif words[0] == "property" and words[1] == "list":
                elements[-1].list_property = (words[4], _PLY_TYPES[words[2]], _PLY_TYPES[words[3]])
            elif words[0] == "property":
                elements[-1].properties.append((words[2], _PLY_TYPES[words[1]]))
            else:
                raise ValueError(words[0])
        except (IndexError, KeyError, ValueError):
            raise ValueError(f"{path}: malformed PLY header line {raw.strip()!r}") from None
    if fmt not in ("binary_little_endian", "binary_big_endian"):
        raise ValueError(f"{path}: unsupported PLY format {fmt!r} (ScanNet PLYs are binary_little_endian)")
    return fmt, elements, body_start


def read_ply(path: PathLike) -> PlyMesh:
    """Read a binary ScanNet PLY mesh (``_vh_clean_2.ply`` or ``_vh_clean_2.labels.ply``), vectorised.

    The vertex block is decoded with one ``np.frombuffer`` over a structured dtype built from the header;
    the face block too when every face is a triangle (always, for ScanNet), else face by face.

    Args:
        path: The ``.ply`` file.

    Returns:
        A :class:`PlyMesh` (positions in metres, raw scan frame).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not a binary PLY, no ``x y z`` vertex properties, truncated data, or face indices out of range.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "tri.ply"
        >>> write_ply(p, np.eye(3), colors=np.full((3, 3), 200, np.uint8), faces=np.array([[0, 1, 2]]))
        >>> mesh = read_ply(p)
        >>> mesh.vertices.shape, mesh.faces.tolist(), mesh.colors[0].tolist()
        ((3, 3), [[0, 1, 2]], [200, 200, 200])
    """
    path = _require_file(path)
    data = path.read_bytes()
    fmt, elements, offset = _parse_ply_header(path, data)
    order = "<" if fmt == "binary_little_endian" else ">"
    vertex: np.ndarray | None = None
    faces = np.zeros((0, 3), dtype=np.int64)
    for el in elements:
        if el.list_property is None:
            dtype = np.dtype([(name, order + code) for name, code in el.properties])
            nbytes = dtype.itemsize * el.count
            if offset + nbytes > len(data):
                raise ValueError(
                    f"{path}: truncated PLY: element '{el.name}' needs {nbytes} bytes, {len(data) - offset} left"
                )
            block = np.frombuffer(data, dtype=dtype, count=el.count, offset=offset)
            offset += nbytes
            if el.name == "vertex":
                vertex = block
            continue
        if el.properties:
            raise ValueError(f"{path}: element '{el.name}' mixes list and scalar properties (unsupported)")
        _, count_code, item_code = el.list_property
        faces, offset = _read_faces(path, data, offset, el.count, order + count_code, order + item_code, el.name)
    if vertex is None:
        raise ValueError(f"{path}: PLY has no 'vertex' element")
    names = vertex.dtype.names or ()
    if not {"x", "y", "z"} <= set(names):
        raise ValueError(f"{path}: PLY vertex element lacks x/y/z properties (has {', '.join(names)})")
    vertices = np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=1).astype(np.float64)
    colors = None
    if {"red", "green", "blue"} <= set(names):
        colors = np.stack([vertex["red"], vertex["green"], vertex["blue"]], axis=1).astype(np.uint8)
    labels = vertex["label"].astype(np.int64) if "label" in names else None
    if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f"{path}: face vertex index out of range [0, {len(vertices)})")
    properties = {name: np.array(vertex[name]) for name in names}
    return PlyMesh(vertices=vertices, colors=colors, faces=faces, labels=labels, properties=properties)


def _read_faces(
    path: Path, data: bytes, offset: int, count: int, count_code: str, item_code: str, name: str
) -> tuple[np.ndarray, int]:
    """Decode a PLY list element; vectorised when all lists have 3 items; returns ((F, 3) int64, new offset)."""
    count_dt, item_dt = np.dtype(count_code), np.dtype(item_code)
    tri = np.dtype([("n", count_dt), ("v", item_dt, (3,))])
    nbytes = tri.itemsize * count
    if count == 0:
        return np.zeros((0, 3), dtype=np.int64), offset
    if offset + nbytes <= len(data):
        block = np.frombuffer(data, dtype=tri, count=count, offset=offset)
        if np.all(block["n"] == 3):
            return block["v"].astype(np.int64), offset + nbytes
    # general polygons (or a truncated block): one face at a time, fan-triangulated
    out: list[list[int]] = []
    for _ in range(count):
        if offset + count_dt.itemsize > len(data):
            raise ValueError(f"{path}: truncated PLY: element '{name}' ends after {len(out)} faces of {count}")
        n = int(np.frombuffer(data, dtype=count_dt, count=1, offset=offset)[0])
        offset += count_dt.itemsize
        if offset + n * item_dt.itemsize > len(data):
            raise ValueError(f"{path}: truncated PLY: element '{name}' ends inside a face")
        idx = np.frombuffer(data, dtype=item_dt, count=n, offset=offset).tolist()
        offset += n * item_dt.itemsize
        out.extend([idx[0], idx[k], idx[k + 1]] for k in range(1, n - 1))
    return np.asarray(out, dtype=np.int64).reshape(-1, 3), offset


def write_ply(
    path: PathLike,
    vertices: np.ndarray,
    *,
    colors: np.ndarray | None = None,
    faces: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> None:
    """Write a ScanNet-style binary little-endian PLY atomically (x y z red green blue alpha [label] + faces).

    Args:
        path: Output ``.ply``.
        vertices: (N, 3) positions in metres (stored as float32).
        colors: (N, 3) ``uint8`` RGB (default mid grey); alpha is written as 255.
        faces: (F, 3) triangle vertex indices (stored as ``list uchar int``); ``None`` writes 0 faces.
        labels: (N,) label ids stored as ``ushort label`` (the ``*.labels.ply`` variant), or ``None``.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    n = len(vertices)
    fields = [
        ("x", "<f4"),
        ("y", "<f4"),
        ("z", "<f4"),
        ("red", "u1"),
        ("green", "u1"),
        ("blue", "u1"),
        ("alpha", "u1"),
    ]
    if labels is not None:
        fields.append(("label", "<u2"))
    block = np.zeros(n, dtype=np.dtype(fields))
    block["x"], block["y"], block["z"] = vertices[:, 0], vertices[:, 1], vertices[:, 2]
    rgb = np.full((n, 3), 128, np.uint8) if colors is None else np.asarray(colors, dtype=np.uint8)
    block["red"], block["green"], block["blue"], block["alpha"] = rgb[:, 0], rgb[:, 1], rgb[:, 2], 255
    if labels is not None:
        block["label"] = np.asarray(labels)
    faces = np.zeros((0, 3), np.int64) if faces is None else np.asarray(faces)
    face_block = np.zeros(len(faces), dtype=np.dtype([("n", "u1"), ("v", "<i4", (3,))]))
    face_block["n"], face_block["v"] = 3, faces
    header = ["ply", "format binary_little_endian 1.0", "comment MLIB generated", f"element vertex {n}"]
    header += [f"property float {a}" for a in "xyz"] + [
        f"property uchar {c}" for c in ("red", "green", "blue", "alpha")
    ]
    if labels is not None:
        header.append("property ushort label")
    header += [f"element face {len(faces)}", "property list uchar int vertex_indices", "end_header"]
    with atomic_open(path, "wb") as f:
        f.write(("\n".join(header) + "\n").encode("ascii"))
        f.write(block.tobytes())
        f.write(face_block.tobytes())


# ------------------------------------------------------------------------------------------ segs / aggregation


def _read_json_object(path: PathLike) -> dict:
    path = _require_file(path)
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
    path = _require_file(path)
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
    path = _require_file(path)
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
