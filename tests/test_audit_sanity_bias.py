"""spatial-r1 audit: question sanity on a degenerate set with known counts, and answer bias on sets built to be
biased / unbiased, against independent references (lmms-eval's own MRA, analytic rates)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.audit.bias import check_bias
from spatial_r1_eval.audit.readers import read_rows
from spatial_r1_eval.audit.report import audit_file
from spatial_r1_eval.audit.sanity import check_sanity
from spatial_r1_eval.generation.templates import TEMPLATES


def _row(scene: str, qt: str, truth: str, options: list[str] | None = None, **fields: str) -> dict:
    return {"scene_name": scene, "question_type": qt, "question": TEMPLATES[qt].format(**fields),
            "options": options, "ground_truth": truth}  # fmt: skip


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _direction(scene: str, p: str, o: str, q: str, truth: str = "A", level: str = "easy") -> dict:
    options = {"easy": ["A. left", "B. right"], "medium": ["A. left", "B. right", "C. back"]}[level]
    return _row(scene, f"object_rel_direction_{level}", truth, options, positioning=p, orienting=o, querying=q)


def test_degenerate_set_known_counts(tmp_path: Path) -> None:
    rd = ["A. bed", "B. sofa", "C. desk", "D. lamp"]
    rows = [
        _direction("s1", "bed", "bed", "tv"),  # repeated
        _direction("s1", "sofa", "tv", "sofa", level="medium"),  # repeated
        _direction("s1", "wall", "tv", "sofa"),  # structural
        _row("s1", "object_abs_distance", "1.2", object1="floor", object2="chair"),  # structural
        _row("s1", "object_abs_distance", "1.3", object1="chair", object2="chair"),  # repeated
        _row("s2", "object_size_estimation", "-5", category="bed"),  # bad number
        _row("s2", "object_counting", "three", category="chair"),  # bad number
        _row("s2", "room_size_estimation", "0"),  # bad number
        _row("s3", "object_rel_distance", "B", ["A. bed", "B. bed", "C. desk", "D. lamp"], category="tv",
             choice_a="bed", choice_b="bed", choice_c="desk", choice_d="lamp"),  # duplicate options + repeated
        _row("s3", "object_rel_distance", "E", rd, category="tv", choice_a="bed", choice_b="sofa", choice_c="desk",
             choice_d="lamp"),  # truth outside the options
        _row("s3", "object_rel_distance", "A", rd, category="tv", choice_a="bed", choice_b="sofa", choice_c="desk",
             choice_d="lamp"),  # same question again in s3: duplicate
        _row("s4", "object_rel_distance", "A", rd, category="tv", choice_a="bed", choice_b="sofa", choice_c="desk",
             choice_d="lamp"),  # other scene: fine
        _direction("s4", "bed", "sofa", "tv"),  # fine
        _row("s4", "object_size_estimation", "120", category="bed"),  # fine
    ]  # fmt: skip
    rep = check_sanity(read_rows(_write(tmp_path / "bad.jsonl", rows))[1])
    assert rep["per_type"] == {
        "object_abs_distance": {"repeated_category": 1, "structural_category": 1},
        "object_counting": {"bad_number": 1},
        "object_rel_direction_easy": {"repeated_category": 1, "structural_category": 1},
        "object_rel_direction_medium": {"repeated_category": 1},
        "object_rel_distance": {"repeated_category": 1, "duplicate_options": 1, "truth_not_in_options": 1,
                                "duplicate_question": 1},
        "object_size_estimation": {"bad_number": 1},
        "room_size_estimation": {"bad_number": 1},
    }  # fmt: skip
    assert rep["rows_with_issues"] == 11 and rep["bad_lines"] == [6, 7, 8, 10]
    assert rep["examples"]["object_size_estimation"]["bad_number"] == [{"line": 6, "id": "6", "detail": "'-5'"}]
    # the bias fit leaves the unusable rows out instead of failing on them
    full = audit_file(tmp_path / "bad.jsonl")
    assert full["bias"]["object_rel_distance"]["rows"] == 3 and not full["summary"]["clean"]


def _mra(pred: float, target: float) -> float:
    from lmms_eval.tasks.vsibench.utils import mean_relative_accuracy

    return float(mean_relative_accuracy(pred, target, 0.5, 0.95, 0.05))


def test_biased_and_unbiased_types(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cats = {f"object{i}": int(s) for i, s in enumerate(rng.integers(20, 300, size=30))}  # a size per category
    rows = []
    for k in range(400):
        cat = f"object{k % 30}"
        rows.append(_row(f"s{k}", "object_size_estimation", str(int(cats[cat] * rng.uniform(0.95, 1.05))),
                         category=cat))  # fmt: skip
        # easy direction: 70% left, independent of the text
        truth = "A" if k < 280 else "B"
        p, o, q = (f"object{i}" for i in rng.permutation(30)[:3])
        rows.append(_direction(f"s{k}", p, o, q, truth))
    path = _write(tmp_path / "biased.jsonl", rows)
    _, parsed = read_rows(path)
    rep = check_bias(parsed, seed=0)
    size, easy = rep["object_size_estimation"], rep["object_rel_direction_easy"]
    assert easy["chance"] == pytest.approx(0.70) and easy["chance_answer"] == "text left"
    # the chance constant is the one maximising lmms-eval's MRA over the ground truths (brute force)
    truths = [float(r["ground_truth"]) for r in rows if r["question_type"] == "object_size_estimation"]
    best = max(np.mean([_mra(c, t) for t in truths]) for c in sorted(set(truths)))
    assert size["chance"] == pytest.approx(best, abs=1e-12)
    # the size answer follows the category named in the question: the text-only model finds it
    assert size["flagged"] and size["text_only"] > 0.8 > size["chance"] + 0.3
    assert not easy["flagged"] and easy["text_only"] <= easy["chance"] + 0.05
    # seeded: same report twice; another seed changes the folds, not the verdict
    assert check_bias(parsed, seed=0) == rep
    assert check_bias(parsed, seed=1)["object_size_estimation"]["flagged"]


def test_bias_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="folds must be >= 2"):
        check_bias([], folds=1)
    with pytest.raises(ValueError, match="margin must be in"):
        check_bias([], margin=5)
