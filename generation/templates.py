"""VSI-Bench question templates (wording copied from the real VSI-Bench questions) and their parsers.

Each template is a ``str.format`` pattern; :func:`parse_question` inverts one for a known set of category names
(used to recompute VSI-Bench answers from its metadata).

Example:
    >>> q = TEMPLATES["object_counting"].format(category="chair")
    >>> q
    'How many chair(s) are in this room?'
    >>> parse_question("object_counting", q, ["chair", "table"])
    {'category': 'chair'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIRECTION_STEM = "If I am standing by the {positioning} and facing the {orienting}, is the {querying} to "

#: question_type -> template (exact VSI-Bench wording, including its spaces and line breaks).
TEMPLATES: dict[str, str] = {
    "object_counting": "How many {category}(s) are in this room?",
    "object_size_estimation": (
        "What is the length of the longest dimension (length, width, or height) of the {category}, "
        "measured in centimeters?"
    ),
    "room_size_estimation": (
        "What is the size of this room (in square meters)? \n"
        "If multiple rooms are shown, estimate the size of the combined space."
    ),
    "object_abs_distance": (
        "Measuring from the closest point of each object, what is the distance between the {object1} and the "
        "{object2} (in meters)?"
    ),
    "object_rel_distance": (
        "Measuring from the closest point of each object, which of these objects ({choice_a}, {choice_b}, "
        "{choice_c}, {choice_d}) is the closest to the {category}?"
    ),
    "object_rel_direction_easy": _DIRECTION_STEM + "the left or the right of the {orienting}?",
    "object_rel_direction_medium": _DIRECTION_STEM
    + "my left, right, or back?\nAn object is to my back if I would have to turn at least 135 degrees in order "
    "to face it.",
    "object_rel_direction_hard": _DIRECTION_STEM
    + "my front-left, front-right, back-left, or back-right?\nThe directions refer to the quadrants of a Cartesian "
    "plane (if I am standing at the origin and facing along the positive y-axis).",
    "obj_appearance_order": (
        "What will be the first-time appearance order of the following categories in the video: {choice_a}, "
        "{choice_b}, {choice_c}, {choice_d}?"
    ),
    # ``actions``: "1. Go forward until the tv 2. [please fill in] 3. Go forward until the bed." (routes.py)
    "route_planning": (
        "You are a robot beginning at the {start} facing the {facing}. You want to navigate to the {goal}. You will "
        "perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or "
        "'turn right.'): {actions} You have reached the final destination."
    ),
}

#: Option texts of the direction levels, in VSI-Bench's canonical order.
DIRECTION_CHOICES: dict[str, tuple[str, ...]] = {
    "object_rel_direction_easy": ("left", "right"),
    "object_rel_direction_medium": ("left", "right", "back"),
    "object_rel_direction_hard": ("front-left", "front-right", "back-left", "back-right"),
}

_FIELD = re.compile(r"\{(\w+)\}")


def parse_question(question_type: str, question: str, categories: Iterable[str]) -> dict[str, str] | None:
    """Invert a template: the category names filling its fields, or ``None`` when the text does not match.

    Fields only match names from ``categories`` (longest first), so names containing " and " or commas are
    resolved against the scene's vocabulary; a field that appears twice must hold the same name.

    Example:
        >>> q = TEMPLATES["object_abs_distance"].format(object1="table", object2="chair")
        >>> parse_question("object_abs_distance", q, ["chair", "table"])
        {'object1': 'table', 'object2': 'chair'}
        >>> parse_question("object_counting", "How many cats?", ["cat"]) is None
        True
    """
    template = TEMPLATES.get(question_type)
    if template is None:
        raise ValueError(f"no template for question_type {question_type!r}")
    names = sorted(set(categories), key=len, reverse=True)
    alternation = "|".join(re.escape(n) for n in names) or r"(?!x)x"
    pattern, pos, seen = "", 0, set()
    for m in _FIELD.finditer(template):
        pattern += re.escape(template[pos : m.start()])
        name = m.group(1)
        pattern += f"(?P={name})" if name in seen else f"(?P<{name}>{alternation})"
        seen.add(name)
        pos = m.end()
    pattern += re.escape(template[pos:])
    match = re.fullmatch(pattern, question)
    return match.groupdict() if match else None
