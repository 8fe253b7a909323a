"""Synthetic ScanNet-format scenes: exact layout, round trip through the readers, answer key, determinism, video."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.generation import scannet_io
from spatial_r1_eval.generation.label_images import LabelImages
from spatial_r1_eval.generation.scannet_scene import load_scene, scene_files
from spatial_r1_eval.generation.sens import SensReader
from spatial_r1_eval.generation.synth import SynthOptions, write_synthetic_scenes
from spatial_r1_eval.generation.video import export_scene_video, resample_indices

SEED = 0
SIZE = {"n_points": 6000, "n_frames": 24, "width": 128, "height": 96, "invalid_poses": 2, "min_pixels": 20}


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "scannet"
    write_synthetic_scenes(root, 3, SEED, **SIZE)
    return root


@pytest.fixture(scope="module")
def scene_dirs(synth_root) -> list[Path]:
    return sorted((synth_root / "scans").iterdir())


@pytest.fixture(scope="module")
def loaded(scene_dirs):
    return [(d, load_scene(d), json.loads((d / "answer_key.json").read_text())) for d in scene_dirs]


def test_layout_is_a_scannet_root(synth_root, scene_dirs):
    assert [d.name for d in scene_dirs] == ["scene9000_00", "scene9001_00", "scene9002_00"]
    lm = scannet_io.read_label_map(synth_root / "scannetv2-labels.combined.tsv")
    assert lm.source == "v2"
    for d in scene_dirs:
        n = d.name
        expected = {
            f"{n}_vh_clean_2.ply",
            f"{n}_vh_clean_2.labels.ply",
            f"{n}_vh_clean_2.0.010000.segs.json",
            f"{n}.aggregation.json",
            f"{n}.txt",
            f"{n}.sens",
            f"{n}_2d-label-filt.zip",
            f"{n}_2d-instance-filt.zip",
            "answer_key.json",
        }
        assert {p.name for p in d.iterdir()} == expected
        groups = scannet_io.read_aggregation(d / f"{n}.aggregation.json")
        assert all(lm.knows(g.label) for g in groups)  # every label is a real v2 TSV category
        mesh = scannet_io.read_ply(d / f"{n}_vh_clean_2.labels.ply")
        assert set(np.unique(mesh.labels).tolist()) <= set(lm.id_to_category)
        assert len(mesh.faces) > 0 and mesh.faces.max() < len(mesh.vertices)


def test_room_shapes_and_floor_area_from_the_mesh(loaded):
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    shapes = set()
    for d, scene, key in loaded:
        shapes.add(key["room"]["shape"])
        polygon = Polygon(key["room"]["floor_polygon"])
        assert polygon.is_valid and polygon.exterior.is_ccw
        assert key["room"]["floor_area_m2"] == pytest.approx(polygon.area, rel=1e-9)
        # independent: union of the PLY triangles whose vertices are all floor vertices, in the aligned frame
        mesh = scannet_io.read_ply(scene_files(d)["ply"])
        floor_obj = next(o for o in scene.objects if o.label == "floor")
        seg = scannet_io.read_segs(scene_files(d)["segs"])
        groups = scannet_io.read_aggregation(scene_files(d)["aggregation"])
        is_floor = np.isin(seg, next(g for g in groups if g.label == "floor").segments)
        tris = mesh.faces[is_floor[mesh.faces].all(axis=1)]
        pts = scene.points
        area = unary_union([Polygon(pts[t, :2]) for t in tris]).area
        assert area == pytest.approx(key["room"]["floor_area_m2"], rel=1e-4)
        assert np.abs(floor_obj.points[:, 2]).max() < 1e-5
        assert shapely.contains_xy(polygon.buffer(1e-4), floor_obj.points[:, 0], floor_obj.points[:, 1]).all()
    assert shapes == {"L", "rectangle"}


def test_alignment_is_applied(loaded):
    for d, scene, key in loaded:
        np.testing.assert_allclose(scene.axis_alignment.reshape(-1), key["axis_alignment"], atol=0)
        raw = scannet_io.read_ply(scene_files(d)["ply"]).vertices
        assert np.abs(raw - scene.points).max() > 0.05  # the raw frame is rotated/translated
        assert scene.points[:, 2].min() == pytest.approx(0.0, abs=1e-5)  # aligned floor at z = 0


def test_answer_key_agrees_with_load_scene(loaded):
    for _, scene, key in loaded:
        assert [(o.object_id, o.label) for o in scene.objects] == [
            (k["object_id"], k["label"]) for k in key["objects"]
        ]
        for obj, k in zip(scene.objects, key["objects"], strict=True):
            np.testing.assert_allclose(obj.aabb.min, k["aabb"]["min"], atol=1e-4)
            np.testing.assert_allclose(obj.aabb.max, k["aabb"]["max"], atol=1e-4)
            np.testing.assert_allclose(obj.obb.centroid, k["obb"]["centroid"], atol=1e-4)
            np.testing.assert_allclose(obj.obb.axes_lengths, k["obb"]["axesLengths"], atol=1e-4)
            axes_key = np.asarray(k["obb"]["normalizedAxes"]).reshape(3, 3)
            dots = np.abs(obj.obb.axes @ axes_key.T)  # |cos| between our axes (rows) and the key's
            if abs(k["obb"]["axesLengths"][0] - k["obb"]["axesLengths"][1]) < 1e-4:  # square: 90 deg ambiguity
                dots[0, 0] = max(dots[0, 0], dots[0, 1])
                dots[1, 1] = max(dots[1, 1], dots[1, 0])
            np.testing.assert_allclose(np.diag(dots), 1.0, atol=1e-5)
            assert round(100 * float(obj.aabb.size.max())) == k["size_cm"]
            if not k["structural"]:
                assert round(100 * float(obj.obb.axes_lengths.max())) == k["obb_size_cm"]
        furniture = [o for o in scene.objects if o.label not in ("wall", "floor", "ceiling")]
        counts: dict[str, int] = {}
        for o in furniture:
            counts[o.label] = counts.get(o.label, 0) + 1
        assert counts == key["counts"] and max(counts.values()) >= 2
        by_id = {o.object_id: o for o in scene.objects}
        assert len(key["distances"]) == len(furniture) * (len(furniture) - 1) // 2
        for row in key["distances"]:
            a, b = by_id[row["a"]], by_id[row["b"]]
            gap = np.clip(np.maximum(a.aabb.min - b.aabb.max, b.aabb.min - a.aabb.max), 0, None)
            assert float(np.linalg.norm(gap)) == pytest.approx(row["aabb_distance_m"], abs=1e-4)


def test_furniture_does_not_overlap_and_stands_in_the_room(loaded):
    from shapely.geometry import Polygon

    for _, scene, key in loaded:
        room = Polygon(key["room"]["floor_polygon"]).buffer(1e-4)
        furniture = [o for o in scene.objects if o.label not in ("wall", "floor")]
        for i, a in enumerate(furniture):
            foot_a = Polygon(_footprint(a.obb))
            assert room.contains(foot_a), a.label
            if a.label != "window":
                assert a.aabb.min[2] == pytest.approx(0.0, abs=1e-5)  # on the floor
            for b in furniture[i + 1 :]:
                assert foot_a.intersection(Polygon(_footprint(b.obb))).area < 1e-9, (a.label, b.label)


def _footprint(obb) -> np.ndarray:
    c, (lx, ly), (u, v) = obb.centroid[:2], obb.axes_lengths[:2] / 2, obb.axes[:2, :2]
    return np.array([c - lx * u - ly * v, c + lx * u - ly * v, c + lx * u + ly * v, c - lx * u + ly * v])


def test_frames_skip_invalid_poses_and_look_from_inside(loaded):
    from shapely.geometry import Point, Polygon

    for d, scene, key in loaded:
        invalid = key["frames"]["invalid_pose_frames"]
        assert len(invalid) == SIZE["invalid_poses"]
        reader = SensReader(scene_files(d)["sens"])
        assert (
            len(reader) == SIZE["n_frames"]
            and sorted(i for i in range(len(reader)) if not reader.valid_pose(i)) == invalid
        )
        assert [f.index for f in scene.frames] == [i for i in range(SIZE["n_frames"]) if i not in invalid]
        room = Polygon(key["room"]["floor_polygon"])
        for f in scene.frames:
            assert f.timestamp == pytest.approx(f.index / 30.0)
            assert room.contains(Point(f.pose[:2, 3])) and 1.4 < f.pose[2, 3] < 1.6
            np.testing.assert_allclose(f.intrinsics, key["frames"]["intrinsics"], atol=1e-5)


def test_depth_backprojects_onto_the_room(loaded):
    for d, scene, key in loaded:
        reader = SensReader(scene_files(d)["sens"])
        lo = np.array([*np.min(key["room"]["floor_polygon"], axis=0), 0.0]) - 0.01
        hi = np.array([*np.max(key["room"]["floor_polygon"], axis=0), key["room"]["height_m"]]) + 0.01
        for f in scene.frames[:: max(1, len(scene.frames) // 4)]:
            depth = reader.read_depth_m(f.index)
            assert depth.shape == (SIZE["height"], SIZE["width"]) and (depth > 0).all()
            v, u = np.nonzero(depth > 0)
            z = depth[v, u].astype(np.float64)
            k = f.intrinsics
            cam = np.stack([(u - k[0, 2]) / k[0, 0] * z, (v - k[1, 2]) / k[1, 1] * z, z], axis=1)
            world = cam @ f.pose[:3, :3].T + f.pose[:3, 3]
            assert np.all(world >= lo) and np.all(world <= hi)
            color = f.load_color()
            assert color.shape == (SIZE["height"], SIZE["width"], 3) and color.std() > 5


def test_label_images_agree_with_instances_and_aggregation(loaded, synth_root):
    lm = scannet_io.read_label_map(synth_root / "scannetv2-labels.combined.tsv")
    for d, scene, _ in loaded:
        labels = LabelImages.find(d, d.name, "label-filt")
        instances = LabelImages.find(d, d.name, "instance-filt")
        assert labels.indices == instances.indices == list(range(SIZE["n_frames"]))
        obj_label_id = {o.object_id + 1: lm.category_to_id[o.label] for o in scene.objects}
        for i in labels.indices[::5]:
            lab, inst = labels.read(i), instances.read(i)
            mask = inst > 0
            expected = np.vectorize(obj_label_id.get)(inst[mask])
            np.testing.assert_array_equal(lab[mask], expected)
            assert set(np.unique(lab[~mask]).tolist()) <= {lm.category_to_id["ceiling"]}


def test_first_seen_frames_match_the_label_images(loaded):
    for _, scene, key in loaded:
        min_pixels = key["appearance"]["min_pixels"]
        first: dict[str, int] = {}
        for f in scene.frames:
            counts = np.bincount(f.load_labels().reshape(-1))
            for label_id in np.nonzero(counts >= min_pixels)[0]:
                first.setdefault(scene.label_id_to_category[int(label_id)], f.index)
        assert first == key["appearance"]["first_frame"]
        assert {c: round(i / 30.0, 6) for c, i in first.items()} == key["appearance"]["first_seconds"]
        assert len(set(first.values())) > 1  # categories appear over time, not all in the first frame


@pytest.mark.parametrize("stride", [1, 2, 3, 5, 8])
def test_strided_label_reading_keeps_the_answer_keys_first_appearances(loaded, stride):
    from dataclasses import replace

    from spatial_r1_eval.generation.generators import STRUCTURAL_LABELS, first_appearance_times

    for _, scene, key in loaded:
        reads: list[int] = []

        def counted(f, reads=reads):
            return lambda: (reads.append(f.index), f.load_labels())[1]

        counting = replace(scene, frames=[replace(f, load_labels=counted(f)) for f in scene.frames])
        got = first_appearance_times(counting, key["appearance"]["min_pixels"], stride=stride)
        expected = {c: t for c, t in key["appearance"]["first_seconds"].items() if c not in STRUCTURAL_LABELS}
        assert {c: round(t, 6) for c, t in got.items()} == expected
        assert len(reads) == len(set(reads))  # every label image read at most once


@pytest.mark.parametrize("stride", [2, 3, 5])
def test_stride_rule_exact_for_sightings_of_stride_frames(stride):
    """The documented rule on hand-made streams: a first sighting of >= stride frames is found exactly, at any
    phase; a shorter glimpse may be missed (then the next sighting counts), never reported early."""
    from spatial_r1_eval.generation.generators import first_appearance_times
    from spatial_r1_eval.generation.scene import Frame, Scene

    def stream(visible: set[int], n: int = 30) -> Scene:
        imgs = [np.full((2, 2), 7 if i in visible else 0) for i in range(n)]
        frames = [Frame(i, i / 30, np.eye(4), np.eye(3), lambda: None, lambda m=m: m) for i, m in enumerate(imgs)]
        return Scene("s", [], frames=frames, label_id_to_category={7: "chair"})

    for start in range(1, 20):
        run = first_appearance_times(stream(set(range(start, start + stride))), 4, ["chair"], stride=stride)
        assert run == {"chair": start / 30}
        glimpse = set(range(start, start + stride - 1)) | set(range(25, 25 + stride))  # short, then seen at 25
        t = first_appearance_times(stream(glimpse), 4, ["chair"], stride=stride)["chair"]
        assert t in (start / 30, 25 / 30)
    with pytest.raises(ValueError, match="stride"):
        first_appearance_times(stream({3}), 4, ["chair"], stride=0)


def test_same_seed_same_bytes_and_resume(tmp_path, synth_root):
    other = tmp_path / "again"
    write_synthetic_scenes(other, 1, SEED, **SIZE)
    cmp = filecmp.dircmp(synth_root / "scans" / "scene9000_00", other / "scans" / "scene9000_00")
    assert not cmp.left_only and not cmp.right_only
    _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
    assert mismatch == [] and errors == []
    assert (other / "scannetv2-labels.combined.tsv").read_bytes() == (
        synth_root / "scannetv2-labels.combined.tsv"
    ).read_bytes()
    # resume: a finished scene is not rewritten
    sens = other / "scans" / "scene9000_00" / "scene9000_00.sens"
    before = sens.stat().st_mtime_ns
    write_synthetic_scenes(other, 1, SEED, **SIZE)
    assert sens.stat().st_mtime_ns == before
    # another seed gives another scene
    write_synthetic_scenes(tmp_path / "seed1", 1, SEED + 1, **SIZE)
    key0 = json.loads((other / "scans/scene9000_00/answer_key.json").read_text())
    key1 = json.loads((tmp_path / "seed1/scans/scene9000_00/answer_key.json").read_text())
    assert key0["room"] != key1["room"]


def test_video_export_resamples_to_24_fps(loaded, tmp_path):
    av = pytest.importorskip("av")
    _, scene, _ = loaded[0]
    path = tmp_path / "v.mp4"
    info = export_scene_video(scene, path)  # size=None: the native size
    n = info.frames
    expected = resample_indices([f.index for f in scene.frames], 30.0, 24.0)
    assert n == len(expected) and (info.width, info.height, info.fps) == (SIZE["width"], SIZE["height"], 24.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == 24 and stream.codec_context.name == "h264"
        decoded = [fr.to_ndarray(format="rgb24") for fr in container.decode(stream)]
    assert len(decoded) == n and decoded[0].shape == (SIZE["height"], SIZE["width"], 3)
    for k in (0, n // 2, n - 1):
        source = scene.frames[int(expected[k])].load_color().astype(float)
        assert np.abs(decoded[k].astype(float) - source).mean() < 12  # lossy, but the same picture
    first = path.read_bytes()
    export_scene_video(scene, path)
    assert path.read_bytes() == first


def test_options_are_validated(tmp_path):
    with pytest.raises(ValueError, match="n_frames"):
        SynthOptions(n_frames=1)
    with pytest.raises(ValueError, match="unknown synthetic scene option"):
        write_synthetic_scenes(tmp_path, 1, 0, n_point=5)
    with pytest.raises(ValueError, match="n_scenes"):
        write_synthetic_scenes(tmp_path, 0, 0)


def test_synth_cli_matches_the_api(tmp_path, synth_root):
    out = tmp_path / "cli"
    args = ["--points", "6000", "--frames", "24", "--width", "128", "--height", "96", "--invalid-poses", "2"]
    args += ["--min-pixels", "20"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spatial_r1_eval.commands.cli",
            "synth",
            "--out",
            str(out),
            "--scenes",
            "1",
            "--seed",
            "0",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(out / "scans" / "scene9000_00") in proc.stdout
    for name in ("answer_key.json", "scene9000_00.sens", "scene9000_00_vh_clean_2.ply"):
        assert (out / "scans/scene9000_00" / name).read_bytes() == (
            synth_root / "scans/scene9000_00" / name
        ).read_bytes()


def test_segments_shared_between_groups_go_to_both(scene_dirs, tmp_path):
    import shutil

    scene_dir = tmp_path / "scans" / scene_dirs[0].name
    shutil.copytree(scene_dirs[0], scene_dir)
    agg_path = scene_files(scene_dir)["aggregation"]
    agg = json.loads(agg_path.read_text())
    shared = agg["segGroups"][1]["segments"][0]
    agg["segGroups"][2]["segments"].append(shared)
    agg_path.write_text(json.dumps(agg))
    scene = load_scene(scene_dir)
    seg = scannet_io.read_segs(scene_files(scene_dir)["segs"])
    for obj, g in zip(scene.objects, agg["segGroups"], strict=True):
        np.testing.assert_array_equal(obj.points, scene.points[np.isin(seg, g["segments"])])
    assert len(scene.objects[2].points) > len(load_scene(scene_dirs[0]).objects[2].points)


def _read_sens_like_scannet(path: Path) -> tuple[dict, list[dict]]:
    """Sequential struct reader following ScanNet's own SensReader/python/SensorData.py field order."""
    import struct
    import zlib

    with path.open("rb") as f:
        head = {"version": struct.unpack("I", f.read(4))[0]}
        strlen = struct.unpack("Q", f.read(8))[0]
        head["sensor_name"] = f.read(strlen)
        for name in ("intrinsic_color", "extrinsic_color", "intrinsic_depth", "extrinsic_depth"):
            head[name] = np.asarray(struct.unpack("f" * 16, f.read(64)), dtype=np.float32).reshape(4, 4)
        head["color_compression_type"], head["depth_compression_type"] = struct.unpack("ii", f.read(8))
        head["size"] = struct.unpack("IIII", f.read(16))
        head["depth_shift"] = struct.unpack("f", f.read(4))[0]
        frames = []
        for _ in range(struct.unpack("Q", f.read(8))[0]):
            pose = np.asarray(struct.unpack("f" * 16, f.read(64)), dtype=np.float32).reshape(4, 4)
            ts_c, ts_d, c_size, d_size = struct.unpack("QQQQ", f.read(32))
            color, depth = f.read(c_size), zlib.decompress(f.read(d_size))
            frames.append({"pose": pose, "ts": ts_c, "color": color, "depth": depth})
        assert struct.unpack("Q", f.read(8))[0] == 0 and f.read() == b""  # no IMU records, nothing after
    return head, frames


def test_sens_follows_the_scannet_layout(scene_dirs):
    import io

    from PIL import Image

    path = scene_files(scene_dirs[0])["sens"]
    head, frames = _read_sens_like_scannet(path)
    reader = SensReader(path)
    assert head["version"] == 4 and head["color_compression_type"] == 2 and head["depth_compression_type"] == 1
    assert (
        head["size"] == (SIZE["width"], SIZE["height"], SIZE["width"], SIZE["height"]) and head["depth_shift"] == 1000
    )
    np.testing.assert_array_equal(reader.header.intrinsic_color, head["intrinsic_color"])
    assert len(frames) == len(reader) == SIZE["n_frames"]
    for i, fr in enumerate(frames):
        np.testing.assert_array_equal(reader.frames[i].pose, fr["pose"])
        assert fr["ts"] == round(i * 1e6 / 30)
        np.testing.assert_array_equal(reader.read_color(i), np.asarray(Image.open(io.BytesIO(fr["color"]))))
        np.testing.assert_array_equal(reader.read_depth(i).reshape(-1), np.frombuffer(fr["depth"], "<u2"))


def test_loaded_scene_pickles_with_its_lazy_frames(loaded):
    import pickle

    _, scene, _ = loaded[1]
    clone = pickle.loads(pickle.dumps(scene))
    f0, g0 = scene.frames[3], clone.frames[3]
    np.testing.assert_array_equal(f0.load_color(), g0.load_color())
    np.testing.assert_array_equal(f0.load_labels(), g0.load_labels())
    np.testing.assert_array_equal(scene.points, clone.points)
