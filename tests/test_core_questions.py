"""Question-type vocabulary agrees with lmms-eval's VSI-Bench lists and the paper's task columns."""

from __future__ import annotations

import pytest

from spatial_r1_eval import questions

vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")


def test_types_equal_lmms_vsibench_lists() -> None:
    assert questions.NUMERICAL == frozenset(vsb.NA_QUESTION_TYPES)
    assert questions.MULTIPLE_CHOICE == frozenset(vsb.MCA_QUESTION_TYPES)
    assert not questions.NUMERICAL & questions.MULTIPLE_CHOICE


def test_tasks_are_the_eight_table_columns_in_order() -> None:
    assert questions.TASKS == (
        "obj_appearance_order",
        "object_abs_distance",
        "object_counting",
        "object_rel_distance",
        "object_size_estimation",
        "room_size_estimation",
        "route_planning",
        "object_rel_direction",
    )
    assert {questions.task_of(qt) for qt in questions.QUESTION_TYPES} == set(questions.TASKS)


@pytest.mark.parametrize("qt", sorted(questions.QUESTION_TYPES))
def test_predicates_and_problem_type(qt: str) -> None:
    assert questions.is_numerical(qt) != questions.is_multiple_choice(qt)
    assert questions.problem_type(qt) == ("numerical" if qt in vsb.NA_QUESTION_TYPES else "multiple choice")


def test_unknown_type() -> None:
    assert not questions.is_numerical("colour") and not questions.is_multiple_choice("colour")
    with pytest.raises(ValueError, match="'colour'"):
        questions.task_of("colour")
    with pytest.raises(ValueError, match="'colour'"):
        questions.problem_type("colour")
