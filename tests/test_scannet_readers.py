"""ScanNet readers and boxes: every reader on the real scene0000_00, checked against independent references."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.generation import boxes, scannet_io
from spatial_r1_eval.generation.scannet_scene import load_scene, resolve_label_map, scene_files

N_VERTICES = 81_369
N_FACES = 153_587
N_GROUPS = 55


@pytest.fixture(scope="module")
def real_files(scene0000_dir: Path) -> dict[str, Path]:
    return scene_files(scene0000_dir)


@pytest.fixture(scope="module")
def real_scene(scene0000_dir: Path):
    return load_scene(scene0000_dir)


# ---------------------------------------------------------------------------------------- per-format readers


def test_ply_matches_open3d(real_files):
    o3d = pytest.importorskip("open3d")
    mesh = scannet_io.read_ply(real_files["ply"])
    assert mesh.vertices.shape == (N_VERTICES, 3) and mesh.faces.shape == (N_FACES, 3)
    ref = o3d.io.read_triangle_mesh(str(real_files["ply"]))
    np.testing.assert_array_equal(mesh.vertices, np.asarray(ref.vertices))
    np.testing.assert_array_equal(mesh.faces, np.asarray(ref.triangles))
    np.testing.assert_allclose(mesh.colors / 255.0, np.asarray(ref.vertex_colors), atol=1e-6)
    assert mesh.labels is None and set(mesh.properties) == {"x", "y", "z", "red", "green", "blue", "alpha"}


def test_labels_ply_has_label_ids_of_the_tsv(real_files, scannet_root):
    mesh = scannet_io.read_ply(real_files["labels_ply"])
    plain = scannet_io.read_ply(real_files["ply"])
    np.testing.assert_array_equal(mesh.vertices, plain.vertices)
    np.testing.assert_array_equal(mesh.faces, plain.faces)
    assert mesh.labels is not None and len(mesh.labels) == N_VERTICES
    old = scannet_io.read_label_map(scannet_root / scannet_io.OLD_TSV_NAME)
    present = set(np.unique(mesh.labels).tolist()) - {0}
    assert present and present <= set(old.id_to_category), present - set(old.id_to_category)


def test_segs_and_aggregation(real_files):
    seg = scannet_io.read_segs(real_files["segs"])
    assert seg.shape == (N_VERTICES,)
    raw = json.loads(real_files["aggregation"].read_text())
    groups = scannet_io.read_aggregation(real_files["aggregation"])
    assert len(groups) == N_GROUPS
    for g, r in zip(groups, raw["segGroups"], strict=True):
        assert (g.id, g.object_id, g.label) == (r["id"], r["objectId"], r["label"])
        assert g.segments.tolist() == r["segments"]
    all_segments = np.concatenate([g.segments for g in groups])
    assert np.isin(all_segments, seg).all(), "every aggregation segment must exist in the segs file"


def test_scene_txt_without_alignment_is_identity(real_files, tmp_path):
    lines = real_files["txt"].read_text().splitlines()
    stripped = tmp_path / "scene.txt"
    stripped.write_text("\n".join(line for line in lines if not line.startswith("axisAlignment")) + "\n")
    info = scannet_io.read_scene_info(stripped)
    assert "axisAlignment" not in info and info["sceneType"] == "Bedroom / Hotel"
    assert info["colorWidth"] == "1296"
    np.testing.assert_array_equal(scannet_io.axis_alignment(info), np.eye(4))


def test_scene_txt_alignment_is_the_row_major_matrix_of_its_line(real_files):
    # independent parse: the 16 numbers after "axisAlignment =" are the 4x4 matrix in row-major order
    (line,) = [ln for ln in real_files["txt"].read_text().splitlines() if ln.startswith("axisAlignment")]
    expected = np.array([float(x) for x in line.split("=", 1)[1].split()]).reshape(4, 4)
    matrix = scannet_io.axis_alignment(scannet_io.read_scene_info(real_files["txt"]))
    np.testing.assert_array_equal(matrix, expected)
    assert not np.allclose(matrix, np.eye(4))  # the real scan is rotated (19 degrees of yaw) and shifted
    np.testing.assert_allclose(matrix[:3, :3] @ matrix[:3, :3].T, np.eye(3), atol=1e-5)


def test_label_tsvs_match_csv_module(scannet_root):
    for name, raw_col in ((scannet_io.V2_TSV_NAME, "raw_category"), (scannet_io.OLD_TSV_NAME, "category")):
        lm = scannet_io.read_label_map(scannet_root / name)
        with (scannet_root / name).open(newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        assert lm.source == ("v2" if raw_col == "raw_category" else "old")
        for row in rows:
            assert lm.normalize(row[raw_col]) == lm.raw_to_category[row[raw_col].strip()]
            assert int(row["id"]) in lm.id_to_category
        if raw_col == "raw_category":
            assert lm.normalize("bookshelves") == "bookshelf" and lm.normalize("trash can") == "trash can"


def test_resolve_label_map_picks_the_old_tsv_for_scene0000(scene0000_dir, scannet_root):
    labels = [g.label for g in scannet_io.read_aggregation(scene_files(scene0000_dir)["aggregation"])]
    lm = resolve_label_map(scene0000_dir, None, labels)
    assert lm is not None and lm.source == "old"
    unknown = sorted({label for label in labels if not lm.knows(label)})
    assert unknown == ["dishrack"]  # in neither TSV; kept, not dropped
    v2 = scannet_io.read_label_map(scannet_root / scannet_io.V2_TSV_NAME)
    assert sum(v2.knows(label) for label in labels) < sum(lm.knows(label) for label in labels)


# ------------------------------------------------------------------------------------------ scene assembly


def test_real_scene_every_object_and_reference_points(real_scene, real_files, scannet_root):
    scene = real_scene
    assert scene.name == "scene0000_00" and scene.points.shape == (N_VERTICES, 3)
    assert len(scene.objects) == N_GROUPS and len(scene.frames) == 0  # no .sens in the shared copy
    # the scan's axisAlignment (row-major after "axisAlignment =") takes the PLY's vertices into the scene frame
    (line,) = [ln for ln in real_files["txt"].read_text().splitlines() if ln.startswith("axisAlignment")]
    matrix = np.array([float(x) for x in line.split("=", 1)[1].split()]).reshape(4, 4)
    np.testing.assert_array_equal(scene.axis_alignment, matrix)
    raw = scannet_io.read_ply(real_files["ply"]).vertices  # checked against open3d in test_ply_matches_open3d
    np.testing.assert_allclose(scene.points, raw @ matrix[:3, :3].T + matrix[:3, 3], atol=1e-9)
    # independent reference: plain json + numpy
    seg = np.asarray(json.loads(real_files["segs"].read_text())["segIndices"])
    agg = json.loads(real_files["aggregation"].read_text())["segGroups"]
    old = scannet_io.read_label_map(scannet_root / scannet_io.OLD_TSV_NAME)
    for obj, g in zip(scene.objects, agg, strict=True):
        ref = scene.points[np.isin(seg, g["segments"])]
        assert obj.object_id == g["objectId"] and obj.raw_label == g["label"]
        assert obj.label == (old.raw_to_category.get(g["label"], g["label"]))
        np.testing.assert_array_equal(obj.points, ref)
        np.testing.assert_array_equal(obj.aabb.min, ref.min(axis=0))
        np.testing.assert_array_equal(obj.aabb.max, ref.max(axis=0))
    labels = [o.label for o in scene.objects]
    assert labels.count("trashcan") == 3 and labels.count("wall") == 9 and "dishrack" in labels
    assert scene.label_id_to_category[12] == "trashcan"


def test_real_scene_obb_is_minimal(real_scene):
    for obj in real_scene.objects:
        obb = obj.obb
        ref_area = _brute_force_min_area(obj.points[:, :2])
        assert obb.axes_lengths[0] * obb.axes_lengths[1] <= ref_area + 1e-9
        local = (obj.points - obb.centroid) @ obb.axes.T  # every point inside the box
        assert np.all(np.abs(local) <= obb.axes_lengths / 2 + 1e-9)
        assert obb.axes_lengths[2] == pytest.approx(np.ptp(obj.points[:, 2]))


# ----------------------------------------------------------------------------------------------------- boxes


def _brute_force_min_area(xy: np.ndarray, steps: int = 9000) -> float:
    """Min bounding-rectangle area over rotations in 0.01 deg steps (an upper bound of the true minimum)."""
    from scipy.spatial import ConvexHull

    xy = xy[ConvexHull(xy).vertices]  # the rectangle only depends on the hull
    angles = np.linspace(0, np.pi / 2, steps, endpoint=False)
    u = np.stack([np.cos(angles), np.sin(angles)], 1)
    v = np.stack([-np.sin(angles), np.cos(angles)], 1)
    pu, pv = xy @ u.T, xy @ v.T
    return float(((pu.max(0) - pu.min(0)) * (pv.max(0) - pv.min(0))).min())


@pytest.mark.parametrize("seed", range(6))
def test_min_oriented_box_recovers_rotated_boxes(seed):
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.2, 2.0, 3)
    yaw = rng.uniform(0, 2 * np.pi)
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=float)
    local = np.vstack([rng.uniform(-0.5, 0.5, (300, 3)), signs / 2]) * size
    rot = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    center = rng.uniform(-3, 3, 3)
    box = boxes.min_oriented_box(local @ rot.T + center)
    np.testing.assert_allclose(box.centroid, center, atol=1e-9)
    np.testing.assert_allclose(np.sort(box.axes_lengths[:2])[::-1], np.sort(size[:2])[::-1], atol=1e-9)
    assert box.axes_lengths[2] == pytest.approx(size[2])
    assert box.axes_lengths[0] >= box.axes_lengths[1]
    np.testing.assert_allclose(box.axes @ box.axes.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(box.axes) == pytest.approx(1.0)
    longer = 0 if size[0] >= size[1] else 1
    assert abs(box.axes[0] @ rot[:, longer]) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(6))
def test_min_area_rectangle_against_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    xy = rng.normal(size=(60, 2)) * rng.uniform(0.3, 3, 2)
    _, lengths, axes = boxes.min_area_rectangle(xy)
    ref = _brute_force_min_area(xy, 36000)
    assert lengths[0] * lengths[1] <= ref + 1e-12
    assert lengths[0] * lengths[1] >= ref * (1 - 1e-3)


def test_degenerate_point_sets():
    line = np.array([[0, 0, 0], [1, 1, 0], [2, 2, 1.0]])
    box = boxes.min_oriented_box(line)
    np.testing.assert_allclose(box.axes_lengths, [np.sqrt(8), 0, 1], atol=1e-9)
    single = boxes.min_oriented_box(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(single.axes_lengths, [0, 0, 0])
    with pytest.raises(ValueError, match="non-empty"):
        boxes.aabb_from_points(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="inf/NaN"):
        boxes.min_oriented_box(np.array([[0, 0, np.nan]]))


@pytest.mark.parametrize("seed", range(4))
def test_aabb_distance_against_sampling(seed):
    rng = np.random.default_rng(seed)
    lo_a, lo_b = rng.uniform(-2, 2, 3), rng.uniform(-2, 2, 3)
    a = boxes.AxisAlignedBox(lo_a, lo_a + rng.uniform(0.1, 1, 3))
    b = boxes.AxisAlignedBox(lo_b, lo_b + rng.uniform(0.1, 1, 3))
    grid = np.linspace(0, 1, 11)
    pa = a.min + np.stack(np.meshgrid(grid, grid, grid), -1).reshape(-1, 3) * a.size
    pb = b.min + np.stack(np.meshgrid(grid, grid, grid), -1).reshape(-1, 3) * b.size
    sampled = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1)).min()
    exact = boxes.aabb_distance_between(a, b)
    assert exact <= sampled + 1e-12
    assert sampled - exact <= np.linalg.norm(np.maximum(a.size, b.size)) / 10 + 1e-9
