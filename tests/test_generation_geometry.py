"""Geometry and alpha shape against independent references: scipy's bounded least squares, dense sampling,
brute-force point sets and the ``alphashape`` package."""

from __future__ import annotations

import alphashape
import numpy as np
import pytest
from scipy.optimize import lsq_linear
from scipy.spatial.distance import cdist
from scipy.spatial.transform import Rotation

from spatial_r1_eval.generation import geometry
from spatial_r1_eval.generation.alpha_shape import alpha_shape_area, room_area_paper
from spatial_r1_eval.generation.generators import direction_label
from spatial_r1_eval.generation.scene import AxisAlignedBox, OrientedBox


def _random_box(rng: np.random.Generator, flat: bool = False, largest: float = 2.0) -> OrientedBox:
    lengths = rng.uniform(0.05, largest, 3)
    if flat:
        lengths[rng.integers(3)] = 0.0
    return OrientedBox(
        rng.uniform(-2, 2, 3), lengths, Rotation.random(random_state=int(rng.integers(1e9))).as_matrix()
    )


def _lsq_distance(a: OrientedBox, b: OrientedBox) -> float:
    """Reference: min |(ca + A u) - (cb + B v)| over the boxes' local coordinates, by bounded least squares."""
    m = np.hstack([a.axes.T, -b.axes.T])
    half = np.concatenate([a.axes_lengths, b.axes_lengths]) / 2
    keep = half > 0  # a zero side is no variable (bvls is inaccurate with zero-width bounds)
    m, half = m[:, keep], half[keep]
    res = lsq_linear(m, b.centroid - a.centroid, bounds=(-half, half), method="bvls", tol=1e-14)
    return float(np.linalg.norm(m @ res.x - (b.centroid - a.centroid)))


@pytest.mark.parametrize("seed", range(4))
def test_obb_distance_matches_bounded_least_squares(seed):
    rng = np.random.default_rng(seed)
    boxes_a = [_random_box(rng, flat=(i % 7 == 0)) for i in range(300)]
    boxes_b = [_random_box(rng) for _ in range(300)]
    ours = geometry.obb_distance_pairs(boxes_a, boxes_b)
    ref = np.array([_lsq_distance(a, b) for a, b in zip(boxes_a, boxes_b, strict=True)])
    assert np.max(np.abs(ours - ref)) < 1e-9
    assert 0 < np.mean(ours == 0) < 1  # both intersecting and separated pairs were exercised


@pytest.mark.parametrize("seed", range(3))
def test_obb_distance_is_the_limit_of_dense_sampling(seed):
    rng = np.random.default_rng(100 + seed)
    a, b = _random_box(rng), _random_box(rng)
    b = OrientedBox(b.centroid + 3.0, b.axes_lengths, b.axes)
    exact = geometry.obb_distance(a, b)

    def sample(box: OrientedBox, n: int) -> np.ndarray:
        t = np.stack(np.meshgrid(*[np.linspace(-0.5, 0.5, n)] * 3), -1).reshape(-1, 3)
        return box.centroid + (t * box.axes_lengths) @ box.axes

    coarse, fine = (cdist(sample(a, n), sample(b, n)).min() for n in (5, 17))
    assert exact <= fine + 1e-12 <= coarse + 1e-12  # sampled distances are upper bounds, decreasing
    spacing = np.linalg.norm(np.maximum(a.axes_lengths, b.axes_lengths)) / 16
    assert fine - exact <= spacing  # and converge to the exact value


@pytest.mark.parametrize("seed", range(3))
def test_aabb_distance_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    for _ in range(8):
        lo_a, lo_b = rng.uniform(-2, 2, 3), rng.uniform(-2, 2, 3)
        hi_a, hi_b = lo_a + rng.uniform(0.1, 1.5, 3), lo_b + rng.uniform(0.1, 1.5, 3)
        grid = [
            np.stack(np.meshgrid(*[np.linspace(lo[i], hi[i], 15) for i in range(3)]), -1).reshape(-1, 3)
            for lo, hi in ((lo_a, hi_a), (lo_b, hi_b))
        ]
        brute = cdist(*grid).min()
        exact = geometry.aabb_distance(lo_a, hi_a, lo_b, hi_b)
        assert exact <= brute + 1e-12
        assert brute - exact <= np.linalg.norm(np.maximum(hi_a - lo_a, hi_b - lo_b)) / 14 + 1e-12
        m = geometry.aabb_distance_matrix([AxisAlignedBox(lo_a, hi_a)], [AxisAlignedBox(lo_b, hi_b)])
        assert m[0, 0] == pytest.approx(exact)


@pytest.mark.parametrize("seed", range(3))
def test_grid_distance_equals_all_pairs_minimum(seed):
    rng = np.random.default_rng(seed)
    for _ in range(10):
        a, b = _random_box(rng, largest=0.6), _random_box(rng, largest=0.6)
        brute = cdist(geometry.grid_points_in_box(a), geometry.grid_points_in_box(b)).min()
        assert geometry.grid_box_distance(a, b) == pytest.approx(brute, abs=1e-12)
        assert geometry.grid_box_distance(a, b) >= geometry.obb_distance(a, b) - 1e-12


def test_grid_points_reproduce_open3d_crop():
    o3d = pytest.importorskip("open3d")
    rng = np.random.default_rng(0)
    for _ in range(20):
        box = _random_box(rng)
        bb = o3d.geometry.OrientedBoundingBox(box.centroid.reshape(3, 1), box.axes.T, box.axes_lengths.reshape(3, 1))
        n = np.ceil(box.axes_lengths / 0.05).astype(int)
        xx, yy, zz = np.meshgrid(*[np.linspace(-e / 2, e / 2, k) for e, k in zip(box.axes_lengths, n, strict=True)])
        pts = np.vstack([xx.ravel(), yy.ravel(), zz.ravel()]).T
        pts = pts[np.any(np.abs(pts) > box.axes_lengths / 4, axis=1)]
        world = np.dot(pts, bb.R.T) + bb.center
        cropped = np.asarray(o3d.geometry.PointCloud(o3d.utility.Vector3dVector(world)).crop(bb).points)
        assert np.array_equal(geometry.grid_points_in_box(box), cropped)


def test_direction_angles_and_labels():
    p, o = np.zeros(3), np.array([0.0, 1.0, 0.0])
    cases = {(-1.0, 1.0): 45.0, (-1.0, -1.0): 135.0, (1.0, -1.0): 225.0, (1.0, 1.0): 315.0, (0.0, 2.0): 0.0}
    for (x, y), angle in cases.items():
        assert geometry.ccw_angle_deg(p, o, np.array([x, y, 3.0])) == pytest.approx(angle)
    assert geometry.ccw_angle_deg(p, o, np.array([0.0, -1.0, 0.0])) == pytest.approx(180.0)
    assert geometry.cross_2d(o[:2], np.array([-1.0, 1.0])) > 0 > geometry.cross_2d(o[:2], np.array([1.0, 1.0]))
    easy, med, hard = "object_rel_direction_easy", "object_rel_direction_medium", "object_rel_direction_hard"
    assert direction_label(45, easy)[0] == "left" and direction_label(315, easy)[0] == "right"
    assert direction_label(5, easy) == (None, "near_collinear") and direction_label(185, easy)[1] == "near_collinear"
    assert [direction_label(a, med)[0] for a in (100, 180, 260)] == ["left", "back", "right"]
    assert direction_label(136, med)[0] is None and direction_label(136, med, margin=0)[0] == "back"
    assert [direction_label(a, hard)[0] for a in (45, 135, 225, 315)] == [
        "front-left",
        "back-left",
        "back-right",
        "front-right",
    ]
    # VSI-Bench: easy has no "back", hard rejects only near the upper edge of a quadrant
    assert direction_label(137, easy, variant="vsibench") == (None, "near_sector_boundary")
    assert direction_label(150, easy, variant="vsibench") == (None, "behind")
    assert direction_label(2, hard, variant="vsibench")[0] == "front-left"
    assert direction_label(85, hard, variant="vsibench")[0] is None


def _point_sets():
    for seed in range(6):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(30, 1500))
        pts = rng.uniform(0, 4, (n, 2))
        if seed % 3 == 1:
            pts = pts[np.linalg.norm(pts - 2, axis=1) > 1.0]  # a hole
        if seed % 3 == 2:
            pts = pts[(pts[:, 0] < 2) | (pts[:, 1] < 1.5)]  # L-shape
        yield pytest.param(pts, [2.0, 5.0][seed % 2], id=f"seed{seed}-n{len(pts)}")


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # alphashape builds np.matrix
@pytest.mark.parametrize(("points", "alpha"), list(_point_sets()))
def test_alpha_shape_area_equals_alphashape_package(points, alpha):
    ref = alphashape.alphashape(points, alpha).area
    assert alpha_shape_area(points, alpha) == pytest.approx(ref, rel=1e-6, abs=1e-12)
    assert alpha_shape_area(points, alpha, fill_holes=False) <= ref + 1e-9


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_alpha_shape_small_and_degenerate_inputs():
    tri = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert alpha_shape_area(tri, 5.0) == pytest.approx(alphashape.alphashape(tri, 5.0).area)
    line = np.c_[np.linspace(0, 1, 10), np.zeros(10)]
    assert alpha_shape_area(line, 5.0) == 0.0
    with pytest.raises(ValueError, match="points"):
        alpha_shape_area(np.zeros(5), 1.0)


def test_paper_room_area_uses_floor_points_only():
    rng = np.random.default_rng(0)
    floor = np.c_[rng.uniform([0, 0], [5, 4], (20000, 2)), rng.uniform(0, 0.02, 20000)]
    furniture = np.c_[rng.uniform([6, 6], [7, 7], (2000, 2)), rng.uniform(0.5, 1, 2000)]  # outside, raised
    area = room_area_paper(np.vstack([floor, furniture]))
    assert area == pytest.approx(20.0, rel=0.01)


@pytest.mark.parametrize("seed", range(4))
def test_rel_distance_never_asks_the_same_question_twice(seed):
    """Few categories: the same target with the same four options (in another order) must not come back."""
    from collections import Counter

    from spatial_r1_eval.generation.generators import GeneratorConfig, gen_rel_distance
    from spatial_r1_eval.generation.scene import Scene, SceneObject

    rng = np.random.default_rng(seed)
    objects = []
    for i, label in enumerate(["bed", "sofa", "desk", "lamp", "tv", "stool"]):
        lo = np.array([2.5 * i + rng.uniform(0, 1), rng.uniform(0, 3), 0.0])
        hi = lo + rng.uniform(0.3, 1.0, 3)
        obb = OrientedBox((lo + hi) / 2, hi - lo, np.eye(3))
        objects.append(SceneObject(i, label, label, AxisAlignedBox(lo, hi), obb))
    scene = Scene("s", objects, room_size=30.0)
    rej: Counter = Counter()
    cands = gen_rel_distance(scene, GeneratorConfig(), np.random.default_rng(seed), rej)
    keys = [(c.meta["category"], frozenset(c.choices)) for c in cands]
    assert cands and len(keys) == len(set(keys))
    assert rej[("object_rel_distance", "duplicate")] > 0  # 6 targets x 5 option sets < 40 draws
    for c in cands:  # the answer is the closest option (exact AABB distances)
        boxes = {o.label: o.aabb for o in objects}
        d = {x: geometry.aabb_distance(boxes[c.meta["category"]].min, boxes[c.meta["category"]].max,
                                       boxes[x].min, boxes[x].max) for x in c.choices}  # fmt: skip
        assert c.answer == min(d, key=d.get)


@pytest.mark.parametrize(("gap", "kept"), [(0.17, False), (0.199, False), (0.21, True), (0.26, True)])
def test_abs_distance_skips_pairs_closer_than_0_2_m(gap, kept):
    """Pairs closer than 0.2 m are skipped, on the exact distance, not on the rounded answer (README "Generating the
    SR dataset", task definitions)."""
    from collections import Counter

    from spatial_r1_eval.generation.generators import GeneratorConfig, gen_abs_distance
    from spatial_r1_eval.generation.scene import Scene, SceneObject

    far = AxisAlignedBox(np.array([1 + gap, 0, 0]), np.array([2 + gap, 1, 1]))
    boxes = [AxisAlignedBox(np.zeros(3), np.ones(3)), far]
    objects = [SceneObject(i, lab, lab, b, OrientedBox(b.centroid, b.size, np.eye(3))) for i, (lab, b) in
               enumerate(zip(["bed", "sofa"], boxes, strict=True))]  # fmt: skip
    rej: Counter = Counter()
    cands = gen_abs_distance(Scene("s", objects), GeneratorConfig(), np.random.default_rng(0), rej)
    assert len(cands) == int(kept) and rej[("object_abs_distance", "too_close")] == int(not kept)
    if kept:
        assert cands[0].answer == f"{round(gap, 1):.1f}"
