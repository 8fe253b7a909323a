"""ScanNet 2-D label images (``label-filt`` / ``instance-filt`` PNGs), from folders or the release zips.

ScanNet ships, per scan, ``<scene>_2d-label-filt.zip`` (members ``label-filt/<frame>.png``: 16-bit PNGs whose
pixel values are ScanNet label ids, the ``id`` column of the label TSV; 0 = unannotated) and
``<scene>_2d-instance-filt.zip`` (``instance-filt/<frame>.png``: 8-bit instance ids, ``objectId + 1``; 0 =
none). ``<frame>`` is the ``.sens`` frame index. Either the zip or its extracted folder is accepted.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from spatial_r1_eval.files import atomic_open

PathLike = str | os.PathLike[str]
KINDS = ("label-filt", "instance-filt")

#: fixed member timestamp for deterministic zips (the earliest a zip can store)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def decode_png(data: bytes, source: str = "<png>") -> np.ndarray:
    """Decode a single-channel PNG (8- or 16-bit) to an (H, W) ``int64`` array.

    Example:
        >>> encode_png(np.array([[0, 300], [7, 65535]])) == encode_png(np.array([[0, 300], [7, 65535]]))
        True
        >>> decode_png(encode_png(np.array([[0, 300], [7, 65535]]))).tolist()
        [[0, 300], [7, 65535]]
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise ValueError(f"{source}: corrupt PNG ({e})") from None
    if arr.ndim != 2:
        raise ValueError(f"{source}: expected a single-channel label PNG, got shape {arr.shape}")
    return arr.astype(np.int64)


def encode_png(labels: np.ndarray, bits: int = 16) -> bytes:
    """Encode (H, W) non-negative integer labels as a deterministic 8- or 16-bit greyscale PNG."""
    from PIL import Image

    labels = np.asarray(labels)
    limit = 255 if bits == 8 else 65535
    if labels.ndim != 2 or labels.min(initial=0) < 0 or labels.max(initial=0) > limit:
        raise ValueError(f"label image must be (H, W) with values in [0, {limit}], got shape {labels.shape}")
    arr = labels.astype(np.uint8 if bits == 8 else np.uint16)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG", optimize=False, compress_level=1)
    return buf.getvalue()


class LabelImages:
    """Frame index -> 2-D label image of one scene, read lazily from a folder or a ``_2d-*-filt.zip``.

    Attributes:
        source: The folder or zip.
        indices: Sorted frame indices that have an image.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> images = {0: np.zeros((2, 3)), 5: np.ones((2, 3))}
        >>> write_label_zip(d / "scene9000_00_2d-label-filt.zip", "label-filt", images)
        >>> imgs = LabelImages.find(d, "scene9000_00")
        >>> imgs.indices, imgs.read(5).tolist()
        ([0, 5], [[1, 1, 1], [1, 1, 1]])
    """

    def __init__(self, source: PathLike, kind: str = "label-filt"):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.source = Path(source)
        self.kind = kind
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[int, str] = {}
        if self.source.is_dir():
            for p in self.source.glob("*.png"):
                if p.stem.isdigit():
                    self._members[int(p.stem)] = p.name
        elif self.source.is_file():
            for name in self._archive().namelist():
                stem = Path(name).stem
                if name.endswith(".png") and Path(name).parent.name == kind and stem.isdigit():
                    self._members[int(stem)] = name
        else:
            raise FileNotFoundError(f"{self.source}: no such folder or zip")
        self.indices = sorted(self._members)

    @classmethod
    def find(cls, scene_dir: PathLike, scene_name: str, kind: str = "label-filt") -> LabelImages | None:
        """The scene's images: folder ``scene_dir/<kind>/`` first, else ``scene_dir/<scene>_2d-<kind>.zip``; None."""
        scene_dir = Path(scene_dir)
        folder = scene_dir / kind
        if folder.is_dir():
            return cls(folder, kind)
        archive = scene_dir / f"{scene_name}_2d-{kind}.zip"
        if archive.is_file():
            return cls(archive, kind)
        return None

    def _archive(self) -> zipfile.ZipFile:
        """The zip, opened on first use (and again after unpickling: scenes can be sent to worker processes)."""
        if self._zip is None:
            try:
                self._zip = zipfile.ZipFile(self.source)
            except zipfile.BadZipFile:
                raise ValueError(f"{self.source}: not a zip archive") from None
        return self._zip

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_zip"] = None
        return state

    def __contains__(self, index: int) -> bool:
        return index in self._members

    def read(self, index: int) -> np.ndarray:
        """(H, W) ``int64`` image of frame ``index`` (label ids, or instance ids)."""
        if index not in self._members:
            raise KeyError(f"{self.source}: no {self.kind} image for frame {index}")
        name = self._members[index]
        if self.source.is_file():
            try:
                data = self._archive().read(name)
            except (zipfile.BadZipFile, OSError) as e:
                raise ValueError(f"{self.source}: cannot read member {name} ({e})") from None
            return decode_png(data, f"{self.source}:{name}")
        path = self.source / name
        return decode_png(path.read_bytes(), str(path))


def write_label_zip(
    path: PathLike,
    kind: str,
    images: dict[int, np.ndarray | bytes] | Iterable[tuple[int, np.ndarray | bytes]],
    bits: int = 16,
) -> None:
    """Write frame label images as a ScanNet-style ``_2d-<kind>.zip`` (``<kind>/<frame>.png``), deterministic.

    Args:
        path: Output zip (written atomically).
        kind: ``"label-filt"`` (16-bit label ids) or ``"instance-filt"``.
        images: ``{frame: (H, W) labels}`` or an iterable of ``(frame, labels)`` pairs (streamed, one at a time);
            a value may also be already encoded PNG ``bytes`` (see :func:`encode_png`).
        bits: PNG bit depth (16 for ``label-filt``, 8 for ``instance-filt`` as in ScanNet).

    Members are stored (PNG is already compressed) in the given order with a fixed 1980-01-01 timestamp.
    """
    items = sorted(images.items()) if isinstance(images, dict) else images
    with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        for index, image in items:
            info = zipfile.ZipInfo(f"{kind}/{index}.png", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, image if isinstance(image, bytes) else encode_png(image, bits))
