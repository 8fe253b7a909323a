"""The ``vsibench`` variants of our generators reproduce VSI-Bench's published answers from its metadata."""

from __future__ import annotations

import json

import pytest

from spatial_r1_eval.generation.validate_cli import agrees, validate

TARGETS = {
    "object_counting": 0.99,
    "object_size_estimation": 0.99,
    "object_rel_distance": 0.99,
    "object_rel_direction_easy": 0.99,
    "object_rel_direction_medium": 0.99,
    "object_rel_direction_hard": 0.99,
    "object_abs_distance": 0.98,
    "room_size_estimation": 1.0,
}


@pytest.mark.slow
def test_validate_vsibench_meets_targets(vsibench_dir, tmp_path):
    out = tmp_path / "recomputed.jsonl"
    stats = validate(str(vsibench_dir / "meta_info"), str(vsibench_dir / "test.jsonl"), str(out))
    for qt, target in TARGETS.items():
        s = stats[qt]
        assert s["recomputed"] == s["questions"], f"{qt}: only {s['recomputed']} of {s['questions']} recomputed"
        assert s["agree"] / s["recomputed"] >= target, f"{qt}: {s['agree']}/{s['recomputed']} < {target}"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == sum(s["recomputed"] for s in stats.values())
    assert stats["obj_appearance_order"]["recomputed"] == 0  # needs the videos: not recomputable from boxes
    # route planning: the questions whose named objects are all unique in the metadata (5 of 194), turn by turn
    route = stats["route_planning"]
    assert route["recomputed"] >= 5 and route["agree"] >= route["recomputed"] - 1, route
    assert route["turns"] >= 6 and route["turns_agree"] >= route["turns"] - 1, route


def test_agreement_tolerances():
    assert agrees("object_counting", "3", "3") and not agrees("object_counting", "3", "4")
    assert agrees("object_size_estimation", "63", "62") and not agrees("object_size_estimation", "64", "62")
    assert agrees("object_abs_distance", "2.0", "2.1") and not agrees("object_abs_distance", "2.0", "2.2")
    assert agrees("room_size_estimation", "26.4", "26.4") and not agrees("room_size_estimation", "26.5", "26.4")
    assert agrees("object_rel_distance", "b", "B") and not agrees("object_rel_direction_easy", "A", "B")


_BOX = {"centroid": [0, 0, 0], "axesLengths": [1, 1, 1], "normalizedAxes": [1, 0, 0, 0, 1, 0, 0, 0, 1]}


@pytest.mark.parametrize(
    "info",
    [
        [1],
        {"object_bbox": {"bed": [5]}},
        {"object_bbox": {"bed": 3}},
        {"object_bbox": {"bed": [{**_BOX, "centroid": ["x", 1, 2], "min": [0] * 3, "max": [1] * 3}]}},
        {"object_bbox": {"bed": [_BOX]}},  # no min / max
        {"object_counts": {"bed": "many"}},
        {"room_size": "big"},
    ],
)
def test_bad_meta_info_is_a_one_line_error_naming_the_file(tmp_path, info):
    from spatial_r1_eval.generation.vsibench_meta import load_meta_dir

    path = tmp_path / "scannet_meta_info_val.json"
    path.write_text(json.dumps({"scene0000_00": info}))
    with pytest.raises(ValueError) as err:
        load_meta_dir(tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: scene 'scene0000_00'") and "\n" not in msg, msg
