"""Bootstrap intervals and the paired test: coverage on known distributions, power, calibration, structure."""

from __future__ import annotations

import numpy as np
import pytest

from spatial_r1_eval.aggregation import aggregate
from spatial_r1_eval.leaderboard.stats import aggregation_weights, bootstrap_ci, pair_samples, paired_bootstrap

DIRECTION = ["object_rel_direction_easy", "object_rel_direction_medium", "object_rel_direction_hard"]
TYPES = ["obj_appearance_order", "object_counting", "route_planning", *DIRECTION]


@pytest.mark.parametrize(("p", "n"), [(0.3, 120), (0.6, 200)])
def test_ci_coverage_bernoulli(p: float, n: int) -> None:
    """~95% of intervals from seeded Bernoulli(p) samples contain p (binomial SE of coverage ~1.1% here)."""
    rng = np.random.default_rng(1234)
    sims, hits = 400, 0
    for s in range(sims):
        scores = (rng.random(n) < p).astype(float)
        ci = bootstrap_ci(["route_planning"] * n, scores, n_boot=1000, seed=s)["route_planning"]
        hits += ci.low <= p <= ci.high
    assert 0.91 <= hits / sims <= 0.985, hits / sims


def test_overall_ci_coverage_multitask() -> None:
    """Overall (unweighted mean of task means, direction = mean of its subtypes) covers its true value."""
    rng = np.random.default_rng(7)
    p = {t: q for t, q in zip(TYPES, [0.2, 0.5, 0.7, 0.4, 0.6, 0.3], strict=True)}
    sizes = {t: m for t, m in zip(TYPES, [40, 60, 30, 20, 25, 35], strict=True)}
    truth = np.mean([p["obj_appearance_order"], p["object_counting"], p["route_planning"], np.mean([0.4, 0.6, 0.3])])
    qt = [t for t in TYPES for _ in range(sizes[t])]
    probs = np.array([p[t] for t in qt])
    sims, hits = 300, 0
    for s in range(sims):
        ci = bootstrap_ci(qt, (rng.random(len(qt)) < probs).astype(float), n_boot=800, seed=s)["overall"]
        hits += ci.low <= truth <= ci.high
    assert 0.90 <= hits / sims <= 0.985, hits / sims


def test_estimates_equal_aggregate_and_seeded() -> None:
    rng = np.random.default_rng(0)
    qt = list(rng.choice(TYPES, size=300))
    scores = rng.random(300)
    ci = bootstrap_ci(qt, scores, n_boot=300, seed=5)
    agg = aggregate(qt, scores)
    assert set(ci) == set(agg)
    for column, value in agg.items():
        assert ci[column].estimate == pytest.approx(value, abs=1e-12)
        assert ci[column].low <= value <= ci[column].high
    assert bootstrap_ci(qt, scores, n_boot=300, seed=5) == ci
    assert bootstrap_ci(qt, scores, n_boot=300, seed=6) != ci


def test_weights_reproduce_aggregate_on_random_subsets() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        types = sorted(set(rng.choice(TYPES + ["object_abs_distance"], size=5)))
        columns, w = aggregation_weights(types)
        means = rng.random(len(types))
        agg = aggregate(types, means)
        assert columns == list(agg)
        np.testing.assert_allclose(means @ w, [agg[c] for c in columns], atol=1e-12)


def test_ci_is_stratified_by_question_type() -> None:
    # one type always 1, another always 0: stratified resampling keeps overall exactly 0.5 in every replicate
    qt = ["object_counting"] * 30 + ["route_planning"] * 5
    ci = bootstrap_ci(qt, [1.0] * 30 + [0.0] * 5, n_boot=500, seed=0)["overall"]
    assert (ci.low, ci.estimate, ci.high) == (0.5, 0.5, 0.5)


def test_paired_detects_real_gain() -> None:
    rng = np.random.default_rng(11)
    n = 300
    qt = list(rng.choice(TYPES, size=n))
    a = (rng.random(n) < 0.4).astype(float)
    b = np.where(rng.random(n) < 0.25, 1.0, a)  # B fixes a quarter of the questions: a true gain of ~0.15
    res = paired_bootstrap(qt, a, b, n_boot=2000, seed=0)["overall"]
    assert res.delta > 0.08 and res.low > 0 and res.p_value < 0.01
    assert res.delta == pytest.approx(aggregate(qt, b)["overall"] - aggregate(qt, a)["overall"], abs=1e-12)


def test_paired_null_is_calibrated() -> None:
    """Under no difference (A and B are exchangeable), p < 0.05 happens about 5% of the time, not more."""
    rng = np.random.default_rng(21)
    n, sims, rejections = 150, 400, 0
    qt = ["object_counting"] * 75 + ["route_planning"] * 75
    for s in range(sims):
        a = (rng.random(n) < 0.5).astype(float)
        b = (rng.random(n) < 0.5).astype(float)
        rejections += paired_bootstrap(qt, a, b, n_boot=500, seed=s)["overall"].p_value < 0.05
    assert 0.02 <= rejections / sims <= 0.09, rejections / sims


def test_paired_identical_runs_not_significant() -> None:
    qt = ["object_counting"] * 40
    a = np.linspace(0, 1, 40)
    res = paired_bootstrap(qt, a, a.copy(), n_boot=300, seed=0)["object_counting"]
    assert res.delta == 0 and res.p_value == 1.0 and res.low == res.high == 0


def test_pairing_and_errors() -> None:
    types, ia, ib = pair_samples(["1", "2", "3"], ["x", "y", "z"], ["3", "2", "9"], ["z", "y", "w"])
    assert types == ["y", "z"] and ia.tolist() == [1, 2] and ib.tolist() == [1, 0]
    with pytest.raises(ValueError, match="share no question id"):
        pair_samples(["1"], ["x"], ["2"], ["x"])
    with pytest.raises(ValueError, match="question '1' has type"):
        pair_samples(["1"], ["x"], ["1"], ["y"])
    with pytest.raises(ValueError, match="2 question types but 1 scores"):
        bootstrap_ci(["route_planning"] * 2, [1.0])
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(["route_planning"], [1.0], n_boot=5)
    with pytest.raises(ValueError, match="unknown question_type"):
        bootstrap_ci(["not_a_type"], [1.0])
