"""Binary PLY meshes as ScanNet ships them: a reader and the writer synthetic scenes need; pure functions, NumPy out.

``<scene>_vh_clean_2.ply`` holds vertices ``x y z red green blue alpha`` (float32 metres, uint8 colours) and triangle
faces; ``<scene>_vh_clean_2.labels.ply`` adds a ``label`` vertex property. Bad input (missing file, truncated or
malformed content) raises a one-line ``FileNotFoundError`` / ``ValueError`` whose message starts with the file path.
:mod:`spatial_r1_eval.generation.scannet_io` re-exports these names next to the other ScanNet readers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spatial_r1_eval.files import atomic_open, require_file

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
    path = require_file(path)
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
