"""Bad ScanNet input: every reader and load_scene give a one-line error naming the file (API and CLI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.generation import scannet_io
from spatial_r1_eval.generation.label_images import LabelImages
from spatial_r1_eval.generation.scannet_scene import load_scene, scene_files
from spatial_r1_eval.generation.sens import SensReader
from spatial_r1_eval.generation.synth import write_synthetic_scenes


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    write_synthetic_scenes(root, 1, 3, n_points=1500, n_frames=4, width=32, height=24)
    return root


@pytest.fixture
def scene(pristine, tmp_path) -> Path:
    """A fresh copy of a small valid scene (with its ScanNet root) to corrupt."""
    root = tmp_path / "root"
    shutil.copytree(pristine, root)
    return root / "scans" / "scene9000_00"


def _corrupt(scene_dir: Path, kind: str) -> Path:
    """Apply one kind of damage; return the file the error must name."""
    files = scene_files(scene_dir)
    if kind == "missing_segs":
        files["segs"].unlink()
        return files["segs"]
    if kind == "truncated_ply":
        data = files["ply"].read_bytes()
        files["ply"].write_bytes(data[: len(data) // 2])
        return files["ply"]
    if kind == "segs_count_mismatch":
        seg = scannet_io.read_segs(files["segs"])
        scannet_io.write_segs(files["segs"], scene_dir.name, seg[:-1])
        return files["segs"]
    if kind == "malformed_json":
        text = files["aggregation"].read_text()
        files["aggregation"].write_text(text[: len(text) // 2])
        return files["aggregation"]
    if kind == "missing_segment":
        agg = json.loads(files["aggregation"].read_text())
        agg["segGroups"][0]["segments"].append(10**9)
        files["aggregation"].write_text(json.dumps(agg))
        return files["aggregation"]
    if kind == "empty_segments":
        agg = json.loads(files["aggregation"].read_text())
        agg["segGroups"][0]["segments"] = []
        files["aggregation"].write_text(json.dumps(agg))
        return files["aggregation"]
    if kind == "bad_alignment":
        files["txt"].write_text("axisAlignment = 1 0 0\nsceneType = x\n")
        return files["txt"]
    if kind == "truncated_sens":
        data = files["sens"].read_bytes()
        files["sens"].write_bytes(data[: len(data) - 100])
        return files["sens"]
    if kind == "not_a_ply":
        files["ply"].write_bytes(b"hello world\n")
        return files["ply"]
    raise AssertionError(kind)


KINDS = [
    "missing_segs",
    "truncated_ply",
    "segs_count_mismatch",
    "malformed_json",
    "missing_segment",
    "empty_segments",
    "bad_alignment",
    "truncated_sens",
    "not_a_ply",
]


@pytest.mark.parametrize("kind", KINDS)
def test_load_scene_errors_name_the_file(scene, kind):
    bad_file = _corrupt(scene, kind)
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        load_scene(scene)
    msg = str(info.value)
    assert "\n" not in msg and str(bad_file) in msg, msg


def test_corrupt_sens_frame_is_reported_when_decoded(scene):
    path = scene_files(scene)["sens"]
    reader = SensReader(path)
    frame = reader.frames[1]
    data = bytearray(path.read_bytes())
    data[frame.color_offset : frame.color_offset + frame.color_size] = b"\0" * frame.color_size
    data[frame.depth_offset : frame.depth_offset + frame.depth_size] = b"\1" * frame.depth_size
    path.write_bytes(bytes(data))
    loaded = load_scene(scene)  # frames are lazy: loading succeeds
    assert loaded.frames[0].load_color().shape == (24, 32, 3)
    with pytest.raises(ValueError, match=r"frame 1: corrupt jpeg colour image") as info:
        loaded.frames[1].load_color()
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"frame 1: corrupt jpeg colour image") as info:
        loaded.frames[1].load_color_reduced((16, 12))  # the reduced-scale decode of the video path too
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"frame 1: corrupt zlib depth"):
        SensReader(path).read_depth(1)


def test_not_a_sens_file(tmp_path):
    bad = tmp_path / "x.sens"
    bad.write_bytes(b"\x07\0\0\0" + b"\0" * 64)
    with pytest.raises(ValueError, match="not a ScanNet .sens file"):
        SensReader(bad)
    with pytest.raises(FileNotFoundError, match="no such file"):
        SensReader(tmp_path / "absent.sens")


def test_reader_level_errors(tmp_path):
    segs = tmp_path / "a.segs.json"
    segs.write_text(json.dumps({"segIndices": "nope"}))
    with pytest.raises(ValueError, match="segIndices"):
        scannet_io.read_segs(segs)
    for bad in ([1.5, 2], ["1", 2], [True, 0]):  # np.asarray(..., int64) would silently convert these
        segs.write_text(json.dumps({"segIndices": bad}))
        with pytest.raises(ValueError, match="segIndices"):
            scannet_io.read_segs(segs)
    agg = tmp_path / "a.aggregation.json"
    agg.write_text(json.dumps({"segGroups": [{"id": 0, "segments": [1]}]}))
    with pytest.raises(ValueError, match=r"segGroups\[0\]"):
        scannet_io.read_aggregation(agg)
    agg.write_text(json.dumps({"segGroups": [{"id": 0, "label": "chair", "segments": [1, 2.7]}]}))
    with pytest.raises(ValueError, match=r"segGroups\[0\]"):
        scannet_io.read_aggregation(agg)
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("name\tcount\nchair\t3\n")
    with pytest.raises(ValueError, match="'id' and 'category' columns"):
        scannet_io.read_label_map(tsv)
    txt = tmp_path / "s.txt"
    txt.write_text("no equals sign here\n")
    with pytest.raises(ValueError, match=r"s.txt:1: expected 'key = value'"):
        scannet_io.read_scene_info(txt)
    ply = tmp_path / "faces.ply"
    scannet_io.write_ply(ply, np.eye(3), faces=np.array([[0, 1, 5]]))
    with pytest.raises(ValueError, match="face vertex index out of range"):
        scannet_io.read_ply(ply)
    png_zip = tmp_path / "scene9000_00_2d-label-filt.zip"
    png_zip.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a zip archive"):
        LabelImages(png_zip)


def test_polygon_faces_are_fan_triangulated(tmp_path):
    ply = tmp_path / "quad.ply"
    header = (
        "ply\nformat binary_little_endian 1.0\nelement vertex 4\nproperty float x\nproperty float y\n"
        "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
    )
    body = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], "<f4").tobytes()
    body += np.array([4], "u1").tobytes() + np.array([0, 1, 2, 3], "<i4").tobytes()
    ply.write_bytes(header.encode() + body)
    mesh = scannet_io.read_ply(ply)
    assert mesh.faces.tolist() == [[0, 1, 2], [0, 2, 3]] and mesh.colors is None


def _cli(*args: str) -> subprocess.CompletedProcess:
    """Run the real ``spatial-r1`` dispatcher (registering ``scene-info`` when this checkout lacks it)."""
    code = (
        "import sys; from spatial_r1_eval.commands import cli; "
        "cli.COMMANDS.setdefault('scene-info', ('spatial_r1_eval.generation.scannet_scene', 'summarise a scan')); "
        "sys.exit(cli.main(sys.argv[1:]))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("kind", ["missing_segs", "truncated_ply", "segs_count_mismatch", "malformed_json"])
def test_cli_reports_bad_scenes_in_one_line(scene, kind):
    bad_file = _corrupt(scene, kind)
    proc = _cli("scene-info", str(scene))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("spatial-r1 scene-info: error: ") and str(bad_file) in lines[0]


def test_cli_scene_info_on_a_good_scene(scene):
    proc = _cli("scene-info", str(scene))
    assert proc.returncode == 0, proc.stderr
    n_objects = len(json.loads((scene / "answer_key.json").read_text())["objects"])
    assert proc.stdout.startswith("scene9000_00: ") and f"{n_objects} objects" in proc.stdout


def test_cli_synth_bad_arguments(tmp_path):
    target = tmp_path / "a_file"
    target.write_text("x")
    proc = _cli("synth", "--out", str(target), "--scenes", "1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and str(target) in proc.stderr
    proc = _cli("synth", "--out", str(tmp_path / "o"), "--scenes", "1", "--frames", "1")
    assert proc.returncode == 2 and "n_frames must be >= 2" in proc.stderr and "Traceback" not in proc.stderr
