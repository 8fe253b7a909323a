"""Shared fixtures: where the real data in ``../shared/data`` lives (tests that need it skip with a reason)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
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


@pytest.fixture(scope="session")
def vsibench_rows(vsibench_dir: Path) -> list[dict]:
    """The real VSI-Bench questions as stored (``test.jsonl`` rows, the built-in ``vsibench`` task's documents)."""
    import json

    with (vsibench_dir / "test.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def vsibench_docs(vsibench_dir: Path) -> list[dict]:
    """The same questions as our VSI-Bench tasks load them (:func:`spatial_r1_eval.tasks.hooks.load_vsibench_docs`)."""
    from spatial_r1_eval.tasks.hooks import load_vsibench_docs

    return load_vsibench_docs(vsibench_dir)


@pytest.fixture(scope="session")
def paper_text() -> str:
    """The Spatial-R1 paper as text (``../shared/seed/spatial-r1-paper.txt``, next to the real data)."""
    return _require(SHARED_DATA.parent / "seed" / "spatial-r1-paper.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def synthetic_sr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SR folder made by the real pipeline: 2 synthetic ScanNet-layout scenes → ``generate`` (with videos).

    Small (20 k points, 300 frames at 160×120) so that it builds in a few seconds; shared by the tests that need SR
    data as a user would have it (``sr.jsonl``, ``sr_train.jsonl``, ``videos/scannet/*.mp4``).
    """
    from spatial_r1_eval.generation.pipeline import generate
    from spatial_r1_eval.generation.synth import write_synthetic_scenes

    root = tmp_path_factory.mktemp("synthetic_scannet")
    write_synthetic_scenes(root, 2, 0, n_points=20_000, n_frames=300, width=160, height=120)
    out = tmp_path_factory.mktemp("synthetic_sr")
    report = generate(root, out, seed=0, videos=True, progress=False)
    if report["scenes"]["failed"]:
        raise RuntimeError(f"SR generation failed: {report['scenes']['failed']}")
    return out


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-toy", action="store_true", help="also run the toy GRPO learning runs (make test-toy)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``toy`` tests (two GRPO runs of minutes each) are deselected unless ``--run-toy`` is given."""
    if config.getoption("--run-toy"):
        return
    toy = [item for item in items if item.get_closest_marker("toy")]
    if toy:
        config.hook.pytest_deselected(items=toy)
        items[:] = [item for item in items if not item.get_closest_marker("toy")]


@pytest.fixture(scope="session")
def sharp_tiny_qwen(tmp_path_factory) -> Path:
    """The tiny random Qwen2.5-VL with sharpened attention (query/key weights x 8), so that log-probs depend
    clearly on token positions (3-D rotary positions of the video) and not only on token identities."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from spatial_r1_eval.tiny_model import build_tiny_qwen2_5_vl

    path = Path(build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("tiny") / "model", seed=0))
    model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "language_model" in name and name.endswith(("q_proj.weight", "k_proj.weight")):
                param.mul_(8.0)
    sharp = path.parent / "sharp"
    model.save_pretrained(sharp)
    AutoProcessor.from_pretrained(path).save_pretrained(sharp)
    return sharp


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``chromium(*args)``: headless Chromium with a throwaway profile in ``tmp_path`` (stdout/stderr captured).

    For the HTML pages' screenshot and ``--dump-dom`` checks; skips the test when no Chromium is installed
    (``make system-deps`` installs it as root).
    """
    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if exe is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium); the html.parser tests still run")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--user-data-dir={tmp_path / 'chromium-profile'}", "--hide-scrollbars"]  # fmt: skip
    env = dict(os.environ, HOME=str(tmp_path))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=120, env=env)

    return run
