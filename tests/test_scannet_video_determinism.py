"""Same frames → same mp4 bytes, also when encoders run concurrently (x264's SIMD kernels were not bit-exact here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from spatial_r1_eval.generation.synth import write_synthetic_scenes

ENCODE = """
import hashlib, sys
import numpy as np
from spatial_r1_eval.generation.video import write_mp4
frames = np.load(sys.argv[1])
for k in range(4):
    out = sys.argv[2] + f".{k}.mp4"
    write_mp4(list(frames), out)
    print(hashlib.sha256(open(out, "rb").read()).hexdigest())
"""


def test_concurrent_encodes_of_scene_frames_are_byte_identical(tmp_path: Path) -> None:
    from spatial_r1_eval.generation.scannet_scene import load_scene
    from spatial_r1_eval.generation.video import scene_video_frames

    root = tmp_path / "scannet"
    write_synthetic_scenes(root, 1, 0, n_points=5_000, n_frames=60, width=160, height=120)
    scene = load_scene(root / "scans" / "scene9000_00")
    frames = np.stack([f.copy() for f in scene_video_frames(scene.frames, scene.fps)])
    np.save(tmp_path / "frames.npy", frames)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ENCODE, str(tmp_path / "frames.npy"), str(tmp_path / f"v{i}")],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    hashes = [h for p in procs for h in p.communicate(timeout=300)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(hashes) == 12 and len(set(hashes)) == 1, hashes
