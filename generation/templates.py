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
from collections.abc import Callable, Iterable

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

    def field(name: str, again: bool) -> str:
        return f"(?P={name})" if again else f"(?P<{name}>{alternation})"

    pattern = _template_pattern(template, field)
    match = re.fullmatch(pattern, question)
    return match.groupdict() if match else None


def _template_pattern(template: str, field: Callable[[str, bool], str]) -> str:
    """A regular expression for ``template``: its literal text escaped, each ``{name}`` replaced by
    ``field(name, seen_before)``."""
    pattern, pos, seen = "", 0, set()
    for m in _FIELD.finditer(template):
        pattern += re.escape(template[pos : m.start()]) + field(m.group(1), m.group(1) in seen)
        seen.add(m.group(1))
        pos = m.end()
    return pattern + re.escape(template[pos:])


#: VSI-Bench's route-planning question opening (not generated by us; recognised for audits).
ROUTE_PLANNING = re.compile(
    r"You are a robot beginning (?P<start>.+?)\. You want to navigate to (?:the )?(?P<target>.+?)\."
)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _generic_patterns() -> list[tuple[str, re.Pattern[str]]]:
    def field(name: str, again: bool) -> str:
        return f"(?P<{name}_1>.+?)" if again else f"(?P<{name}>.+?)"

    return [(qt, re.compile(_template_pattern(_normalise(t), field))) for qt, t in TEMPLATES.items()]


_GENERIC = _generic_patterns()


def infer_question(question: str) -> tuple[str, dict[str, str]] | None:
    """The question type and field values of a question written with one of the templates, without knowing the
    scene's categories (whitespace differences are ignored; a field repeated in a template is returned once per
    occurrence, the second as ``<name>_1``). Route-planning questions are recognised by their opening.

    Example:
        >>> infer_question("How many chair(s) are in this room?")
        ('object_counting', {'category': 'chair'})
        >>> qt, f = infer_question(TEMPLATES["object_rel_direction_easy"].format(
        ...     positioning="bed", orienting="sofa", querying="tv"))
        >>> qt, f["positioning"], f["orienting_1"]
        ('object_rel_direction_easy', 'bed', 'sofa')
        >>> infer_question("What colour is the sofa?") is None
        True
    """
    norm = _normalise(str(question))
    for qt, pattern in _GENERIC:
        m = pattern.fullmatch(norm)
        if m is not None:
            return qt, m.groupdict()
    m = ROUTE_PLANNING.match(norm)
    if m is not None:
        return "route_planning", m.groupdict()
    return None
