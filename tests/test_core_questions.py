"""Question-type vocabulary agrees with lmms-eval's VSI-Bench lists and the paper's task columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spatial_r1_eval import questions

vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")


def test_types_equal_lmms_vsibench_lists() -> None:
    assert questions.NUMERICAL == frozenset(vsb.NA_QUESTION_TYPES)
    assert questions.MULTIPLE_CHOICE == frozenset(vsb.MCA_QUESTION_TYPES)
    assert not questions.NUMERICAL & questions.MULTIPLE_CHOICE


def test_tasks_are_the_builtin_vsibench_metrics_in_order() -> None:
    """Our eight tasks and their metric names, in order, are the task metrics of lmms-eval's own vsibench YAML."""
    from lmms_eval.utils import load_yaml_config

    builtin = load_yaml_config(str(Path(vsb.__file__).parent / "vsibench.yaml"), mode="simple")
    metrics = [m["metric"] for m in builtin["metric_list"] if m["metric"] != "vsibench_overall"]
    assert [questions.METRIC_NAMES[task] for task in questions.TASKS] == metrics
    assert {questions.task_of(qt) for qt in vsb.MCA_QUESTION_TYPES + vsb.NA_QUESTION_TYPES} == set(questions.TASKS)


def test_tasks_follow_the_papers_table1_columns(paper_text: str) -> None:
    """``TASKS`` is the column order of the paper's Table 1 (its header row, in the text of the paper)."""
    header = next(line for line in paper_text.splitlines() if line.startswith("Model / "))
    columns = [re.sub(r"[^a-z]", "", c.lower()) for c in header.split("\t")[1:]]
    assert columns[-1].startswith("overall")
    assert columns[:-1] == [t.replace("_", "") for t in questions.TASKS]


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
