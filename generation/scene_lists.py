"""Built-in scene lists (package data in ``generation/data/``) and scene-name patterns of the three source datasets.

* ``vsibench`` — VSI-Bench's 288 scenes: ``vsibench-scannet`` (88), ``vsibench-arkitscenes`` (150) and
  ``vsibench-scannetpp`` (50), the keys of the benchmark's public ``meta_info/<dataset>_meta_info_val.json``
  (vision-x-nyu/thinking-in-space ``data/meta_info/``, commit 51e089c);
* ``scannet-val`` — the 312 ScanNet v2 validation scenes (``scannetv2_val.txt``, ScanNet's official split as
  shipped in facebookresearch/votenet).

:func:`load_scene_list` takes one of these names or a scene-list file; ``spatial-r1 generate --exclude-scenes`` and
``spatial-r1 audit`` use it.

>>> len(builtin_scene_list("vsibench")), len(builtin_scene_list("scannet-val"))
(288, 312)
>>> dataset_of_scene("scene0024_02"), dataset_of_scene("41069025"), dataset_of_scene("7b6477cb95")
('scannet', 'arkitscenes', 'scannetpp')
"""

from __future__ import annotations

import os
import re
from functools import cache
from importlib import resources
from pathlib import Path

#: VSI-Bench's source datasets, in the order its metadata files list them.
VSIBENCH_DATASETS: tuple[str, ...] = ("arkitscenes", "scannet", "scannetpp")

#: built-in list name -> package data files it is made of
BUILTIN_LISTS: dict[str, tuple[str, ...]] = {
    "vsibench": tuple(f"vsibench_{d}.txt" for d in VSIBENCH_DATASETS),
    **{f"vsibench-{d}": (f"vsibench_{d}.txt",) for d in VSIBENCH_DATASETS},
    "scannet-val": ("scannetv2_val.txt",),
}

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("scannet", re.compile(r"scene\d{4}_\d{2}")),
    ("arkitscenes", re.compile(r"\d{8}")),
    ("scannetpp", re.compile(r"[0-9a-f]{10}")),
)
#: a scene name inside a longer string (a video path): ScanNet, ARKitScenes ids, ScanNet++ hashes
_IN_PATH = re.compile(r"(?<![0-9A-Za-z])(scene\d{4}_\d{2}|\d{8}|[0-9a-f]{10})(?![0-9A-Za-z])")


def _parse(text: str) -> list[str]:
    return [s for line in text.splitlines() if (s := line.split("#")[0].strip())]


@cache
def _data_file(name: str) -> tuple[str, ...]:
    return tuple(_parse(resources.files("spatial_r1_eval.generation").joinpath("data", name).read_text("utf-8")))


def builtin_scene_list(name: str) -> list[str]:
    """The scenes of a built-in list (sorted).

    Raises:
        ValueError: an unknown name (the message lists the names).

    >>> builtin_scene_list("vsibench-scannet")[:2]
    ['scene0025_01', 'scene0030_02']
    """
    if name not in BUILTIN_LISTS:
        raise ValueError(f"unknown scene list {name!r}; built-in lists: {', '.join(BUILTIN_LISTS)}")
    return sorted({s for f in BUILTIN_LISTS[name] for s in _data_file(f)})


def vsibench_scenes() -> dict[str, frozenset[str]]:
    """VSI-Bench's scenes per source dataset.

    >>> {d: len(s) for d, s in vsibench_scenes().items()}
    {'arkitscenes': 150, 'scannet': 88, 'scannetpp': 50}
    """
    return {d: frozenset(_data_file(f"vsibench_{d}.txt")) for d in VSIBENCH_DATASETS}


def load_scene_list(spec: str | os.PathLike[str]) -> list[str]:
    """Scenes of a built-in list name (``vsibench``, ``scannet-val``, ...) or of a scene-list file.

    A file is one scene name per line; blank lines and ``#`` comments are ignored. A name in
    :data:`BUILTIN_LISTS` always means the built-in list (write ``./vsibench`` for a file of that name).

    Raises:
        FileNotFoundError: neither a built-in name nor an existing file (the message lists the names).

    >>> load_scene_list("scannet-val")[:2]
    ['scene0011_00', 'scene0011_01']
    """
    if isinstance(spec, str) and spec in BUILTIN_LISTS:
        return builtin_scene_list(spec)
    from spatial_r1_eval.generation.pipeline import read_scene_list

    if not Path(spec).is_file():
        raise FileNotFoundError(f"{spec}: no such scene list file (built-in lists: {', '.join(BUILTIN_LISTS)})")
    return read_scene_list(spec)


def dataset_of_scene(scene: str) -> str | None:
    """The source dataset a scene name's shape belongs to (ScanNet ``sceneXXXX_YY``, ARKitScenes 8-digit ids,
    ScanNet++ 10-hex-digit hashes), else ``None``.

    >>> dataset_of_scene("scene9000_00"), dataset_of_scene("kitchen")
    ('scannet', None)
    """
    for dataset, pattern in _PATTERNS:
        if pattern.fullmatch(scene):
            return dataset
    return None


def scene_from_path(path: str) -> str | None:
    """The scene name in a video path: the last path component (or stem) that looks like a scene name.

    >>> scene_from_path("videos/scannet/scene0024_02.mp4"), scene_from_path("./arkitscenes/41069025.mp4")
    ('scene0024_02', '41069025')
    >>> scene_from_path("ScanNetpp/7b6477cb95/rgb.mp4"), scene_from_path("LLaVA-Video-178K/clip_12.mp4") is None
    ('7b6477cb95', True)
    """
    for part in reversed(re.split(r"[\\/]", str(path))):
        found = _IN_PATH.findall(part)
        if found:
            return found[-1]
    return None
