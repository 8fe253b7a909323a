"""Same frames → same mp4 bytes, also when encoders run concurrently, in both encoder modes.

Default (x264's SIMD kernels): byte-identical on the same machine. ``deterministic=True`` (``asm=0`` and swscale's
bit-exact colour conversion): no CPU-dispatched code path, the same bytes on any machine with the same build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.generation.synth import write_synthetic_scenes

ENCODE = """
import hashlib, sys
import numpy as np
from spatial_r1_eval.generation.video import write_mp4
frames = np.load(sys.argv[1])
for k in range(4):
    out = sys.argv[2] + f".{k}.mp4"
    write_mp4(list(frames), out, deterministic=sys.argv[3] == "strict")
    print(hashlib.sha256(open(out, "rb").read()).hexdigest())
"""


@pytest.fixture(scope="module")
def frames_file(tmp_path_factory) -> Path:
    from spatial_r1_eval.generation.scannet_scene import load_scene
    from spatial_r1_eval.generation.video import scene_video_frames

    tmp = tmp_path_factory.mktemp("det")
    root = tmp / "scannet"
    write_synthetic_scenes(root, 1, 0, n_points=5_000, n_frames=60, width=160, height=120)
    scene = load_scene(root / "scans" / "scene9000_00")
    frames = np.stack([f.copy() for f in scene_video_frames(scene.frames, scene.fps)])
    np.save(tmp / "frames.npy", frames)
    return tmp / "frames.npy"


@pytest.mark.parametrize("mode", ["strict", "simd"])
def test_concurrent_encodes_of_scene_frames_are_byte_identical(frames_file: Path, tmp_path: Path, mode: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ENCODE, str(frames_file), str(tmp_path / f"v{i}"), mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    hashes = [h for p in procs for h in p.communicate(timeout=300)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(hashes) == 12 and len(set(hashes)) == 1, hashes


def _decode(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(frames as rgb24, the yuv420p planes as x264 got them) of an mp4."""
    import av

    with av.open(str(path)) as container:
        decoded = list(container.decode(container.streams.video[0]))
    return np.stack([f.to_ndarray(format="rgb24") for f in decoded]), np.stack([f.to_ndarray() for f in decoded])


def test_modes_differ_only_by_encoder_decisions_and_strict_colour_is_bt601(frames_file: Path, tmp_path: Path) -> None:
    from spatial_r1_eval.generation.video import write_mp4

    frames = np.load(frames_file)
    write_mp4(list(frames), tmp_path / "strict.mp4", deterministic=True)
    write_mp4(list(frames), tmp_path / "simd.mp4", deterministic=False)
    strict_rgb, strict_yuv = _decode(tmp_path / "strict.mp4")
    simd_rgb, _ = _decode(tmp_path / "simd.mp4")
    assert strict_rgb.shape == simd_rgb.shape == frames.shape
    # same picture and quality: both within the lossy error of the source, and close to each other
    psnr = lambda a, b: 10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2))  # noqa: E731
    assert psnr(strict_rgb, frames) > 30 and psnr(simd_rgb, frames) > 30 and psnr(strict_rgb, simd_rgb) > 35
    # the strict conversion is BT.601 limited range (an independent formula), up to x264's lossy coding:
    # mean luma per frame within 1 level of 16 + (65.481 R + 128.553 G + 24.966 B) / 255
    x = frames.astype(float)
    luma = 16 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255
    h = frames.shape[1]
    np.testing.assert_allclose(strict_yuv[:, :h].mean(axis=(1, 2)), luma.mean(axis=(1, 2)), atol=1.0)
