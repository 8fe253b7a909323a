"""Shared fixtures: where the real data in ``../shared/data`` lives (tests that need it skip with a reason)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The real data folder (ScanNet scene0000_00, VSI-Bench questions and metadata); override with SPATIAL_R1_SHARED_DATA.
SHARED_DATA = Path(os.environ.get("SPATIAL_R1_SHARED_DATA", REPO.parent / "shared" / "data"))


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (it lives in ../shared/data, never in the repo)")
    return path


@pytest.fixture(scope="session")
def scannet_root() -> Path:
    """``../shared/data/scannet`` (has ``scans/scene0000_00`` and the label TSVs)."""
    return _require(SHARED_DATA / "scannet")


@pytest.fixture(scope="session")
def scene0000_dir(scannet_root: Path) -> Path:
    """The real ScanNet scene ``scene0000_00``."""
    return _require(scannet_root / "scans" / "scene0000_00")


@pytest.fixture(scope="session")
def vsibench_dir() -> Path:
    """``../shared/data/vsibench`` (``test.jsonl`` and ``meta_info/``)."""
    return _require(SHARED_DATA / "vsibench")
