"""Videos at the benchmark's size: fitted box, reduced-scale JPEG decode, sizes in report.json and record meta."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.generation.scannet_scene import load_scene
from spatial_r1_eval.generation.synth import write_synthetic_scenes
from spatial_r1_eval.generation.video import export_scene_video, fit_size, parse_video_size, resample_indices

W, H = 320, 240


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vsize") / "scannet"
    write_synthetic_scenes(root, 1, 0, n_points=6000, n_frames=30, width=W, height=H, min_pixels=20)
    return root


def _full_decode(frame_bytes: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(frame_bytes)) as im:
        return np.asarray(im.convert("RGB"))


def test_fit_size_keeps_aspect_even_and_never_enlarges():
    assert fit_size(1296, 968, (640, 480)) == (640, 478)  # ScanNet colour -> VSI-Bench's box
    assert fit_size(968, 1296, (640, 480)) == (358, 480)  # portrait fits by height
    assert fit_size(160, 120, (640, 480)) == (160, 120)  # smaller than the box: kept
    assert fit_size(1297, 971, None) == (1296, 970)  # native, even
    for w, h in [(1296, 968), (1920, 1080), (641, 479), (333, 1001)]:
        fw, fh = fit_size(w, h, (640, 480))
        assert fw % 2 == 0 and fh % 2 == 0 and fw <= 640 and fh <= 480
        assert abs(fw / fh - w / h) <= 2 * (w / h) / fh + 1e-9  # aspect within the rounding of one even step
        assert fw == 640 or fh == 480 or (fw, fh) == (w // 2 * 2, h // 2 * 2)
    assert parse_video_size("640x480") == (640, 480) and parse_video_size("NATIVE") is None
    for bad in ("640", "640x", "x480", "1x480", "axb", "-640x480"):
        with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
            parse_video_size(bad)


def test_reduced_scale_decode_is_the_block_mean_of_a_full_decode(root):
    from spatial_r1_eval.generation.sens import SensReader

    reader = SensReader(root / "scans" / "scene9000_00" / "scene9000_00.sens")
    # smallest DCT scale 1/s keeping both sides >= the request (libjpeg: s in 1, 2, 4, 8)
    for size, scale in [((160, 120), 2), ((100, 76), 2), ((80, 60), 4), ((40, 30), 8), ((W, H), 1), ((161, 120), 1)]:
        for index in (0, 13, 29):
            info = reader.frames[index]
            full = _full_decode(reader._read_bytes(info.color_offset, info.color_size)).astype(float)
            img = reader.read_color_reduced(index, size)
            assert img.shape == (H // scale, W // scale, 3) and img.dtype == np.uint8
            # the scaled IDCT approximates the mean of each s x s block of the full-size picture
            blocks = full.reshape(H // scale, scale, W // scale, scale, 3).mean(axis=(1, 3))
            assert np.abs(img.astype(float) - blocks).mean() < 3


def test_export_fits_the_box_and_shows_the_same_pictures(root, tmp_path):
    av = pytest.importorskip("av")
    from PIL import Image

    scene = load_scene(root / "scans" / "scene9000_00")
    path = tmp_path / "small.mp4"
    info = export_scene_video(scene, path, size=(100, 100), deterministic=False)
    expected = resample_indices([f.index for f in scene.frames], 30.0, 24.0)
    assert (info.width, info.height, info.frames, info.fps) == (100, 76, len(expected), 24.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (100, 76)
        decoded = [fr.to_ndarray(format="rgb24") for fr in container.decode(stream)]
    assert len(decoded) == info.frames
    for k in (0, len(decoded) // 2, len(decoded) - 1):
        source = Image.fromarray(scene.frames[int(expected[k])].load_color())
        ref = np.asarray(source.resize((100, 76), Image.Resampling.LANCZOS)).astype(float)  # independent filter
        assert np.abs(decoded[k].astype(float) - ref).mean() < 12  # lossy, but the same picture at that size


def test_generate_records_video_size_and_fps(root, tmp_path):
    av = pytest.importorskip("av")
    from spatial_r1_eval.generation.pipeline import generate

    small = generate(root, tmp_path / "small", video_size=(160, 160), progress=False)
    native = generate(root, tmp_path / "native", video_size=None, deterministic_video=True, progress=False)
    assert small["settings"]["video"] == {
        "size": "160x160",
        "fps": 24.0,
        "deterministic": False,
        "sizes": {"160x120": 1},
    }
    assert native["settings"]["video"] == {
        "size": "native",
        "fps": 24.0,
        "deterministic": True,
        "sizes": {"320x240": 1},
    }
    for out, (w, h) in [(tmp_path / "small", (160, 120)), (tmp_path / "native", (W, H))]:
        assert json.loads((out / "report.json").read_text())["settings"]["video"]["sizes"] == {f"{w}x{h}": 1}
        records = [json.loads(line) for line in (out / "sr.jsonl").read_text().splitlines()]
        assert records and all(
            (r["meta"]["video_width"], r["meta"]["video_height"], r["meta"]["video_fps"]) == (w, h, 24.0)
            for r in records
        )
        with av.open(str(out / "videos" / "scannet" / "scene9000_00.mp4")) as container:
            ctx = container.streams.video[0].codec_context
            assert (ctx.width, ctx.height) == (w, h) and container.streams.video[0].average_rate == 24
    # the questions do not depend on the video settings
    q_small = [(r["id"], r["ground_truth"]) for r in map(json.loads, (tmp_path / "small" / "sr.jsonl").open())]
    q_native = [(r["id"], r["ground_truth"]) for r in map(json.loads, (tmp_path / "native" / "sr.jsonl").open())]
    assert q_small == q_native
    with pytest.raises(ValueError, match="video_size"):
        generate(root, tmp_path / "bad", video_size=(0, 480), progress=False)
    assert not (tmp_path / "bad").exists()  # refused before anything is written


def test_cli_video_flags(root, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    base = [sys.executable, "-m", "spatial_r1_eval.commands.cli", "generate", "--scannet", str(root), "--no-progress"]
    proc = subprocess.run(
        [*base, "--out", str(tmp_path / "cli"), "--video-size", "160x160", "--deterministic-video"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    video = json.loads((tmp_path / "cli" / "report.json").read_text())["settings"]["video"]
    assert video == {"size": "160x160", "fps": 24.0, "deterministic": True, "sizes": {"160x120": 1}}
    bad = subprocess.run(
        [*base, "--out", str(tmp_path / "bad"), "--video-size", "640by480"], capture_output=True, text=True, env=env
    )
    assert bad.returncode != 0 and "WIDTHxHEIGHT" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad" / "report.json").exists()


def test_dataset_and_videos_identical_whatever_the_workers(tmp_path):
    from spatial_r1_eval.generation.pipeline import generate

    root = tmp_path / "scannet"
    write_synthetic_scenes(root, 2, 3, n_points=4000, n_frames=24, width=128, height=96, min_pixels=20)
    generate(root, tmp_path / "w1", video_size=(64, 64), progress=False)
    generate(root, tmp_path / "w2", video_size=(64, 64), progress=False, workers=2)
    files = ["sr.jsonl", "sr_train.jsonl", "sr.parquet", "report.json"]
    files += [f"videos/scannet/scene900{k}_00.mp4" for k in range(2)]  # SIMD encodes: same machine, same bytes
    for name in files:
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes(), name
