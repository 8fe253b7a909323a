"""One vocabulary: the generators' question types and tasks come from the core (spatial_r1_eval.questions)."""

from __future__ import annotations

import pytest

from spatial_r1_eval import questions
from spatial_r1_eval.generation import generators
from spatial_r1_eval.generation.filters import FilterConfig, select
from spatial_r1_eval.generation.generators import Candidate

vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")


def test_the_order_lists_every_vsibench_type_once():
    order = questions.QUESTION_TYPE_ORDER
    assert len(set(order)) == len(order)
    assert set(order) == set(vsb.NA_QUESTION_TYPES) | set(vsb.MCA_QUESTION_TYPES)


def test_question_types_of_inverts_task_of():
    seen = []
    for task in questions.TASKS:
        types = questions.question_types_of(task)
        assert types and all(questions.task_of(qt) == task for qt in types)
        seen.extend(types)
    assert sorted(seen) == sorted(questions.QUESTION_TYPES)
    with pytest.raises(ValueError, match="unknown task 'colour'"):
        questions.question_types_of("colour")


def test_generation_uses_the_core_vocabulary():
    assert generators.QUESTION_TYPES is questions.QUESTION_TYPE_ORDER
    assert set(generators.TASKS) == set(questions.TASKS) == set(generators.GENERATORS)
    assert [qt for types in generators.TASKS.values() for qt in types] == list(questions.QUESTION_TYPE_ORDER)
    assert generators.resolve_tasks(["route_planning", "object_rel_direction_hard", "object_counting"]) == [
        "object_counting",
        "object_rel_direction",
        "route_planning",
    ]


def test_records_follow_the_order_within_a_scene():
    cands = [
        Candidate("object_rel_direction_easy", "d?", "left", ["left", "right"]),
        Candidate("object_counting", "c?", "3"),
    ]
    records, _ = select({"s": cands}, FilterConfig())
    assert [r["question_type"] for r in records] == ["object_counting", "object_rel_direction_easy"]
    unknown = sorted(["zeta", "route_planning", "object_counting", "alpha"], key=questions.type_sort_key)
    assert unknown == ["object_counting", "route_planning", "alpha", "zeta"]
