"""The SR pipeline end to end: real scene0000_00 checked against geometry recomputed here from the raw files,
synthetic scenes against their analytic answer keys, determinism, resumption, bad scenes, filters."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import Delaunay

from spatial_r1_eval.generation import routes
from spatial_r1_eval.generation.filters import FilterConfig, select
from spatial_r1_eval.generation.generators import STRUCTURAL_LABELS, Candidate, GeneratorConfig
from spatial_r1_eval.generation.pipeline import generate
from spatial_r1_eval.generation.templates import TEMPLATES, parse_question

OUTPUTS = ("sr.jsonl", "sr_train.jsonl", "sr.parquet", "report.json")


# ----------------------------------------------------------------------------- independent raw readers


def _read_ply_vertices(path: Path) -> np.ndarray:
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode().splitlines()
    n = next(int(line.split()[2]) for line in header if line.startswith("element vertex"))
    types = {"float": "<f4", "uchar": "u1", "double": "<f8", "int": "<i4"}
    props, in_vertex = [], False
    for line in header:
        if line.startswith("element"):
            in_vertex = line.startswith("element vertex")
        elif line.startswith("property") and in_vertex:
            _, t, name = line.split()
            props.append((name, types[t]))
    v = np.frombuffer(data, dtype=np.dtype(props), count=n, offset=end)
    return np.stack([v["x"], v["y"], v["z"]], axis=1).astype(np.float64)


def _raw_objects(scene_dir: Path) -> list[tuple[str, np.ndarray]]:
    name = scene_dir.name
    pts = _read_ply_vertices(scene_dir / f"{name}_vh_clean_2.ply")
    segs = np.array(json.loads((scene_dir / f"{name}_vh_clean_2.0.010000.segs.json").read_text())["segIndices"])
    groups = json.loads((scene_dir / f"{name}.aggregation.json").read_text())["segGroups"]
    # ScanNet's axisAlignment (row-major 4x4 after "axisAlignment =" in <scene>.txt; identity when absent)
    # takes the mesh into the aligned frame that every generated answer refers to.
    lines = (scene_dir / f"{name}.txt").read_text().splitlines()
    align = [[float(x) for x in ln.split("=", 1)[1].split()] for ln in lines if ln.startswith("axisAlignment")]
    matrix = np.array(align[0]).reshape(4, 4) if align else np.eye(4)
    pts = pts @ matrix[:3, :3].T + matrix[:3, 3]
    return [(g["label"].strip(), pts[np.isin(segs, g["segments"])]) for g in groups], pts


def _ccw(p, o, q) -> float:
    a = math.degrees(math.atan2(o[1] - p[1], o[0] - p[0]))
    b = math.degrees(math.atan2(q[1] - p[1], q[0] - p[0]))
    return (b - a) % 360.0


def _aabb_gap(a, b) -> float:
    gap = np.maximum(0, np.maximum(b[0] - a[1], a[0] - b[1]))
    return float(np.sqrt(np.sum(gap**2)))


def _check_record(rec, boxes, counts, room_check, appearance=None) -> None:
    """``boxes``: label -> list of (min, max) boxes; verify one record's answer from them."""
    qt, q = rec["question_type"], rec["question"]
    if qt == "route_planning":  # turns from the box centres (NumPy reference in test_generation_routes)
        from test_generation_routes import ref_route_answer

        meta = rec["meta"]
        letter = {o.split(". ", 1)[0]: o.split(". ", 1)[1] for o in rec["options"]}
        route = routes.parse_route_question(q)
        assert route["start"] == meta["start"] and [s for s in route["steps"] if s] == meta["waypoints"]
        centre = {lab: (b[0][0] + b[0][1]) / 2 for lab, b in boxes.items() if len(b) == 1}
        assert letter[rec["ground_truth"]] == ref_route_answer(
            centre, meta["form"], meta["start"], meta["facing"], meta["waypoints"]
        )
        assert not {meta["start"], meta["facing"], *meta["waypoints"]} & STRUCTURAL_LABELS
        return
    f = parse_question(qt, q, list(boxes)) if qt != "room_size_estimation" else {}
    assert f is not None, q
    assert not set(f.values()) & STRUCTURAL_LABELS, q
    gt = rec["ground_truth"]
    letter = {o.split(". ", 1)[0]: o.split(". ", 1)[1] for o in rec["options"]}
    if qt == "object_counting":
        assert int(gt) == counts[f["category"]] >= 2
    elif qt == "object_size_estimation":
        ((lo, hi),) = boxes[f["category"]]
        assert int(gt) == round(100 * float(np.max(hi - lo)))
    elif qt == "room_size_estimation":
        room_check(float(gt))
    elif qt == "object_abs_distance":
        (a,), (b,) = boxes[f["object1"]], boxes[f["object2"]]
        assert float(gt) == round(_aabb_gap(a, b), 1) >= 0.2
    elif qt == "object_rel_distance":
        cands = [f[k] for k in ("choice_a", "choice_b", "choice_c", "choice_d")]
        d = {c: min(_aabb_gap(t, x) for t in boxes[f["category"]] for x in boxes[c]) for c in cands}
        assert letter[gt] == min(d, key=d.get)
        assert sorted(d.values())[1] - sorted(d.values())[0] > 0.15
    elif qt.startswith("object_rel_direction"):
        p, o, qq = ((boxes[f[k]][0][0] + boxes[f[k]][0][1]) / 2 for k in ("positioning", "orienting", "querying"))
        angle = _ccw(p, o, qq)
        if qt.endswith("easy"):
            expected = "left" if angle < 180 else "right"
        elif qt.endswith("medium"):
            expected = "left" if angle < 135 else "back" if angle < 225 else "right"
        else:
            expected = ["front-left", "back-left", "back-right", "front-right"][int(angle // 90)]
        assert letter[gt] == expected, (q, angle)
    elif qt == "obj_appearance_order":
        cats = letter[gt].split(", ")
        times = [appearance[c] for c in cats]
        assert times == sorted(times) and min(np.diff(times)) >= 1.0
    else:
        raise AssertionError(f"unexpected question type {qt}")


# ----------------------------------------------------------------------------- real scene0000_00


@pytest.fixture(scope="module")
def real_run(scannet_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("sr_real")
    report = generate(scannet_root, out, scenes=["scene0000_00"], videos=False, progress=False)
    return out, report


def test_real_scene_answers_match_aligned_raw_geometry(real_run, scene0000_dir):
    out, report = real_run
    objects, points = _raw_objects(scene0000_dir)
    boxes: dict[str, list] = {}
    for label, pts in objects:
        boxes.setdefault(label, []).append((pts.min(0), pts.max(0)))
    counts = Counter(label for label, _ in objects)

    def room_check(value: float) -> None:  # the paper's room area, recomputed with a plain loop
        floor = points[points[:, 2] <= points[:, 2].min() + 0.10][:, :2]
        tri = Delaunay(floor)
        total = 0.0
        for simplex in tri.simplices:
            a, b, c = floor[simplex]
            area = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) / 2
            sides = np.linalg.norm(a - b) * np.linalg.norm(b - c) * np.linalg.norm(c - a)
            if area > 0 and sides / (4 * area) < 1 / 2.0:
                total += area
        assert value == round(total, 1)

    records = [json.loads(line) for line in (out / "sr.jsonl").read_text().splitlines()]
    types = Counter(r["question_type"] for r in records)
    assert set(types) == set(TEMPLATES) - {"obj_appearance_order"}  # every task this frameless scene supports
    for rec in records:
        _check_record(rec, {k: v for k, v in boxes.items()}, counts, room_check)
    assert report["scenes"]["without_frames"] == ["scene0000_00"]
    assert report["rejected"]["obj_appearance_order"] == {"no_frames": 1}


def test_real_scene_outputs_are_loadable(real_run):
    out, report = real_run
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("parquet", data_files=str(out / "sr.parquet"), split="train")
    rows = [json.loads(line) for line in (out / "sr.jsonl").read_text().splitlines()]
    train = [json.loads(line) for line in (out / "sr_train.jsonl").read_text().splitlines()]
    assert len(ds) == len(rows) == len(train) == report["total"]
    assert ds[0]["id"] == rows[0]["id"] and ds[0]["options"] == rows[0]["options"]
    for r, t in zip(rows, train, strict=True):
        assert t["solution"] == f"<answer>{r['ground_truth']}</answer>"
        assert t["path"] == "videos/" + r["video"] == f"videos/scannet/{r['scene_name']}.mp4"
        assert t["prompt"].startswith(r["question"]) and "<answer>" in t["prompt"]
        assert (t["problem_type"] == "multiple choice") == bool(r["options"])
    assert json.loads((out / "report.json").read_text())["total"] == len(rows)


def test_same_seed_gives_identical_files_and_resumes(scannet_root, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(scannet_root, a, seed=3, videos=False, progress=False)
    generate(scannet_root, b, seed=3, videos=False, progress=False, workers=2)
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    cache = a / ".cache" / "scene0000_00.json"
    stamp = cache.stat().st_mtime_ns
    generate(scannet_root, a, seed=3, videos=False, progress=False)  # resumed: nothing recomputed
    assert cache.stat().st_mtime_ns == stamp
    assert (a / "sr.jsonl").read_bytes() == (b / "sr.jsonl").read_bytes()
    generate(scannet_root, b, seed=4, videos=False, progress=False)
    assert (a / "sr.jsonl").read_bytes() != (b / "sr.jsonl").read_bytes()


def test_bad_scene_is_reported_and_skipped(scannet_root, scene0000_dir, tmp_path):
    root = tmp_path / "root"
    (root / "scans").mkdir(parents=True)
    for tsv in scannet_root.glob("*.tsv"):
        shutil.copy(tsv, root / tsv.name)
    (root / "scans" / "scene0000_00").symlink_to(scene0000_dir)
    bad = root / "scans" / "scene0001_00"
    bad.mkdir()
    for src in scene0000_dir.iterdir():
        if src.is_file() and not src.name.endswith(".labels.ply"):
            dst = bad / src.name.replace("scene0000_00", "scene0001_00")
            dst.write_bytes(src.read_bytes()[:5000] if src.name.endswith("_vh_clean_2.ply") else src.read_bytes())
    report = generate(root, tmp_path / "out", videos=False, progress=False)
    assert report["scenes"]["ok"] == 1 and list(report["scenes"]["failed"]) == ["scene0001_00"]
    assert "scene0001_00_vh_clean_2.ply" in report["scenes"]["failed"]["scene0001_00"]
    assert report["total"] > 0
    excl = tmp_path / "val.txt"
    excl.write_text("scene0000_00\n")
    report = generate(root, tmp_path / "out2", videos=False, progress=False, exclude_scenes=excl)
    assert report["scenes"]["excluded"] == ["scene0000_00"] and report["total"] == 0
    with pytest.raises(FileNotFoundError, match="scene0099_00"):
        generate(root, tmp_path / "out3", scenes=["scene0099_00"], progress=False)


# ----------------------------------------------------------------------------- synthetic scenes


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    from spatial_r1_eval.generation import synth

    root = tmp_path_factory.mktemp("synth")
    # issue acceptance: on 20 synthetic scenes every generated answer equals the answer key, letters balanced
    synth.write_synthetic_scenes(root, 20, 0, n_points=20_000, n_frames=300, width=160, height=120)
    return root


@pytest.mark.slow
def test_synthetic_answers_equal_answer_keys(synth_root, tmp_path):
    keys = {p.parent.name: json.loads(p.read_text()) for p in sorted((synth_root / "scans").glob("*/answer_key.json"))}
    min_pixels = {k["appearance"]["min_pixels"] for k in keys.values()}.pop()
    config = GeneratorConfig(appearance_min_pixels=min_pixels)
    report = generate(synth_root, tmp_path / "out", videos=False, progress=False, config=config, workers=2)
    records = [json.loads(line) for line in (tmp_path / "out" / "sr.jsonl").read_text().splitlines()]
    assert report["scenes"]["ok"] == len(keys)
    assert report["counts"].get("obj_appearance_order", 0) > 0 and len(report["counts"]) == 10
    for rec in records:
        key = keys[rec["scene_name"]]
        boxes: dict[str, list] = {}
        for o in key["objects"]:
            boxes.setdefault(o["label"], []).append((np.array(o["aabb"]["min"]), np.array(o["aabb"]["max"])))

        def room_check(value: float, key=key) -> None:
            assert value == pytest.approx(key["room"]["floor_area_m2"], rel=0.03)

        _check_record(rec, boxes, key["counts"], room_check, key["appearance"]["first_seconds"])
        if rec["question_type"] == "route_planning":  # every leg walkable on the exact rectangles
            legs = {frozenset((leg["a_label"], leg["b_label"])): leg for leg in key["route_legs"]}
            path = [rec["meta"]["start"], *rec["meta"]["waypoints"]]
            for a, b in zip(path, path[1:], strict=False):
                clear = legs[frozenset((a, b))]["clearance_m"]
                assert clear is None or clear >= config.route_clearance, (rec["id"], a, b)
    by_count: dict[tuple[str, int], Counter] = {}  # letters balanced per type and number of options
    for rec in records:
        if rec["options"]:
            by_count.setdefault((rec["question_type"], len(rec["options"])), Counter())[rec["ground_truth"]] += 1
    for (qt, n), hist in by_count.items():
        if sum(hist.values()) >= 2 * n:
            assert len(hist) == n and max(hist.values()) - min(hist.values()) <= 1, (qt, n, hist)


# ----------------------------------------------------------------------------- filters


def test_filters_balance_letters_cap_and_reject():
    cands = {}
    for s in range(12):
        scene = f"scene{s:04d}_00"
        cands[scene] = [
            Candidate("object_rel_distance", f"Q{s}-{i}?", "bed", ["chair", "bed", "sofa", "tv"]) for i in range(5)
        ] + [Candidate("object_counting", f"C{s}?", "0"), Candidate("object_counting", f"C{s}?", "0")]
    recs, rej = select(cands, FilterConfig(per_scene_cap=4, seed=1))
    letters = Counter(r["ground_truth"] for r in recs)
    assert sum(letters.values()) == 48 and set(letters.values()) == {12}
    assert rej[("object_rel_distance", "per_scene_cap")] == 12
    assert rej[("object_counting", "duplicate")] == 12 and rej[("object_counting", "non_positive_answer")] == 12
    for r in recs:
        assert r["options"][ord(r["ground_truth"]) - 65] == f"{r['ground_truth']}. bed"
    recs2, rej2 = select(cands, FilterConfig(per_scene_cap=4, max_per_task=10, seed=1))
    assert len(recs2) == 10 and rej2[("object_rel_distance", "max_per_task")] == 38


@pytest.mark.slow
def test_ray_local_instance_gives_the_same_files(scannet_root, tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (optional extra: pip install 'spatial-r1-eval[ray]')")
    generate(scannet_root, tmp_path / "local", videos=False, progress=False)
    generate(scannet_root, tmp_path / "ray", videos=False, progress=False, ray_address="local")
    for name in OUTPUTS:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes(), name


def test_scene_list_file_errors_name_the_file(tmp_path):
    from spatial_r1_eval.generation.pipeline import read_scene_list

    good = tmp_path / "val.txt"
    good.write_text("scene0000_00\n\n# a comment\nscene0001_00  # trailing\n")
    assert read_scene_list(good) == ["scene0000_00", "scene0001_00"]
    binary = tmp_path / "val.bin"
    binary.write_bytes(b"\xff\xfe\x00scene")
    with pytest.raises(ValueError) as err:
        read_scene_list(binary)
    assert str(err.value) == f"{binary}: not a UTF-8 text file of scene names"
    with pytest.raises(FileNotFoundError, match="no such scene list file"):
        read_scene_list(tmp_path / "absent.txt")


def test_resume_redoes_a_scene_whose_video_was_deleted(tmp_path):
    from spatial_r1_eval.generation import synth

    root = tmp_path / "scannet"
    synth.write_synthetic_scenes(root, 1, 0, n_points=5_000, n_frames=30, width=64, height=48)
    out = tmp_path / "sr"
    generate(root, out, progress=False)
    video = out / "videos" / "scannet" / "scene9000_00.mp4"
    first = video.read_bytes()
    video.unlink()
    generate(root, out, progress=False)  # the cached scene lacks its video: it runs again and writes it
    assert video.read_bytes() == first
