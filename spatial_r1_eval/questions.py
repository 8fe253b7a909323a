"""The question-type vocabulary shared by VSI-Bench and the SR dataset.

VSI-Bench names its question types; SR uses the same names. Four are numerical (scored with NAR, the
VSI-Bench "MRA"), six are multiple choice (scored with MAR, exact letter match). The three
``object_rel_direction_*`` difficulty levels form one task in the paper's tables.

>>> task_of("object_rel_direction_hard")
'object_rel_direction'
>>> is_numerical("room_size_estimation"), is_multiple_choice("route_planning")
(True, True)
>>> question_types_of("object_rel_direction")
('object_rel_direction_easy', 'object_rel_direction_medium', 'object_rel_direction_hard')
"""

from __future__ import annotations

NUMERICAL: frozenset[str] = frozenset(
    {"object_counting", "object_size_estimation", "room_size_estimation", "object_abs_distance"}
)
"""Question types whose ground truth is a positive number (scored with NAR)."""

REL_DIRECTION_SUBTYPES: tuple[str, ...] = (
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
)
"""The three difficulty levels of the relative-direction task (unweighted mean in tables)."""

MULTIPLE_CHOICE: frozenset[str] = frozenset(
    {"object_rel_distance", "route_planning", "obj_appearance_order", *REL_DIRECTION_SUBTYPES}
)
"""Question types whose ground truth is an option letter (scored with MAR)."""

QUESTION_TYPES: frozenset[str] = NUMERICAL | MULTIPLE_CHOICE
"""Every known question type."""

QUESTION_TYPE_ORDER: tuple[str, ...] = (
    "object_counting",
    "object_size_estimation",
    "room_size_estimation",
    "object_abs_distance",
    "object_rel_distance",
    *REL_DIRECTION_SUBTYPES,
    "obj_appearance_order",
    "route_planning",
)
"""Every question type once, in the paper's order (§2.2, then route planning): the order in which the SR dataset is
generated, stored and reported (``QUESTION_TYPES`` as a sequence)."""

TASKS: tuple[str, ...] = (
    "obj_appearance_order",
    "object_abs_distance",
    "object_counting",
    "object_rel_distance",
    "object_size_estimation",
    "room_size_estimation",
    "route_planning",
    "object_rel_direction",
)
"""The eight table tasks, in the column order of the paper's Table 1."""

METRIC_NAMES: dict[str, str] = {
    "obj_appearance_order": "obj_appearance_order_accuracy",
    "object_abs_distance": "object_abs_distance_mra",
    "object_counting": "object_counting_mra",
    "object_rel_distance": "object_rel_distance_accuracy",
    "object_size_estimation": "object_size_estimation_mra",
    "room_size_estimation": "room_size_estimation_mra",
    "route_planning": "route_planning_accuracy",
    "object_rel_direction": "object_rel_direction_accuracy",
    "overall": "vsibench_overall",
}
"""Table task (and ``overall``, last) -> metric name in lmms-eval results: the built-in ``vsibench`` names, which our
tasks reuse so that tables line up."""


def _check(question_type: str) -> str:
    if question_type not in QUESTION_TYPES:
        raise ValueError(
            f"unknown question_type {question_type!r}; expected one of {', '.join(sorted(QUESTION_TYPES))}"
        )
    return question_type


def task_of(question_type: str) -> str:
    """Map a question type to its table task.

    Args:
        question_type: a VSI-Bench / SR question type.

    Returns:
        The task name (one of ``TASKS``): the question type itself, except that the three
        ``object_rel_direction_*`` levels map to ``object_rel_direction``.

    Raises:
        ValueError: for an unknown question type (the message names it).

    >>> task_of("object_counting")
    'object_counting'
    >>> task_of("object_rel_direction_easy")
    'object_rel_direction'
    """
    _check(question_type)
    return "object_rel_direction" if question_type in REL_DIRECTION_SUBTYPES else question_type


def question_types_of(task: str) -> tuple[str, ...]:
    """The question types of a table task, in ``QUESTION_TYPE_ORDER`` (the inverse of :func:`task_of`).

    Args:
        task: a task name (one of ``TASKS``).

    Returns:
        The task itself as a 1-tuple, or the three ``object_rel_direction_*`` levels for ``object_rel_direction``.

    Raises:
        ValueError: for an unknown task (the message names it).

    >>> question_types_of("object_counting")
    ('object_counting',)
    >>> len(question_types_of("object_rel_direction"))
    3
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return tuple(qt for qt in QUESTION_TYPE_ORDER if task_of(qt) == task)


def _order_key(order: tuple[str, ...], name: str) -> tuple[int, str]:
    return (order.index(name) if name in order else len(order), name)


def type_sort_key(question_type: str) -> tuple[int, str]:
    """Sort key of question types: ``QUESTION_TYPE_ORDER``, then unknown names alphabetically.

    >>> sorted(["route_planning", "zeta", "object_counting", "alpha"], key=type_sort_key)
    ['object_counting', 'route_planning', 'alpha', 'zeta']
    """
    return _order_key(QUESTION_TYPE_ORDER, question_type)


def task_sort_key(task: str) -> tuple[int, str]:
    """Sort key of table tasks: the column order of ``TASKS``, then unknown names (``mean``, ...) alphabetically.

    >>> sorted(["object_rel_direction", "overall", "obj_appearance_order"], key=task_sort_key)
    ['obj_appearance_order', 'object_rel_direction', 'overall']
    """
    return _order_key(TASKS, task)


def is_numerical(question_type: str) -> bool:
    """Whether ``question_type`` is a numerical type (NAR). Unknown types give ``False``.

    >>> is_numerical("object_abs_distance"), is_numerical("route_planning")
    (True, False)
    """
    return question_type in NUMERICAL


def is_multiple_choice(question_type: str) -> bool:
    """Whether ``question_type`` is a multiple-choice type (MAR). Unknown types give ``False``.

    >>> is_multiple_choice("object_rel_direction_medium"), is_multiple_choice("object_counting")
    (True, False)
    """
    return question_type in MULTIPLE_CHOICE


def problem_type(question_type: str) -> str:
    """The Video-R1 / Spatial-R1 training ``problem_type`` of a question type.

    Returns:
        ``"numerical"`` or ``"multiple choice"``.

    Raises:
        ValueError: for an unknown question type.

    >>> problem_type("object_size_estimation"), problem_type("obj_appearance_order")
    ('numerical', 'multiple choice')
    """
    return "numerical" if _check(question_type) in NUMERICAL else "multiple choice"
