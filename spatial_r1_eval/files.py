"""Safe file handling shared by every writer and reader in the project.

Writers never leave a partial output file: they write to a temporary file in the destination folder and
rename it into place (atomic on POSIX). Readers report bad input as a one-line ``ValueError`` naming the
file and line, and dataset paths are resolved inside their data root (no ``..`` escapes).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open ``path`` for writing through a temporary sibling file that replaces ``path`` only on success.

    Args:
        path: Destination file; its parent folders are created.
        mode: ``"w"`` (text) or ``"wb"`` (binary).
        encoding: Text encoding (ignored for binary mode).

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_open(d / "out.txt") as f:
        ...     _ = f.write("done")
        >>> (d / "out.txt").read_text()
        'done'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON atomically, with sorted keys so the bytes are deterministic."""
    with atomic_open(path) as f:
        json.dump(obj, f, indent=indent, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line atomically (keys in insertion order); returns the row count."""
    n = 0
    with atomic_open(path) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file; a missing file or bad JSON is a one-line error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}") from None


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a JSON-lines file (blank lines ignored); a bad line is a one-line error naming file and line.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
        >>> write_jsonl(p, [{"id": 1}, {"id": 2}])
        2
        >>> [r["id"] for r in read_jsonl(p)]
        [1, 2]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    rows = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: malformed JSON: {e.msg}") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            rows.append(row)
    return rows


def require_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a ``Path`` when it is an existing file.

    Raises:
        FileNotFoundError: ``<path>: no such file``.

    >>> require_file("/no/such/file.ply")
    Traceback (most recent call last):
    ...
    FileNotFoundError: /no/such/file.ply: no such file
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path


def resolve_inside(root: str | os.PathLike[str], relative: str) -> Path:
    """Join ``relative`` (from a dataset record) onto ``root`` and refuse paths that escape ``root``.

    Example:
        >>> str(resolve_inside("/data", "scannet/scene0000_00.mp4"))
        '/data/scannet/scene0000_00.mp4'
        >>> resolve_inside("/data", "../etc/passwd")
        Traceback (most recent call last):
        ...
        ValueError: path '../etc/passwd' escapes its data root /data
    """
    root_path = Path(root).resolve()
    candidate = (root_path / relative).resolve()
    if os.path.isabs(relative) or not candidate.is_relative_to(root_path):
        raise ValueError(f"path {relative!r} escapes its data root {root_path}")
    return candidate
