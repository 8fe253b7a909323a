"""Question sanity: degenerate questions and broken answers, counted per question type.

Checks (a row can fail several):

* ``repeated_category`` — a category named twice in one question (standing point = facing object, a distance
  from an object to itself, a target among its own choices, an appearance order listing a category twice);
* ``structural_category`` — a structural or ill-defined label as a target (``wall``, ``floor``, ``ceiling``,
  ``object``, ``otherfurniture``, …: the generators' ``STRUCTURAL_LABELS``);
* ``not_unique`` — a category the template requires to be unique (size, distance, relative-distance target,
  every direction object) has several instances in the scene; ``absent_from_scene`` — a named category the scene
  does not have (both only when the scene is available, ``--scannet``);
* ``bad_number`` — a numerical ground truth that is not a finite number > 0 (the scoring core's rule);
* ``duplicate_options`` — the same option text twice; ``truth_not_in_options`` — a multiple-choice ground truth
  that is not one of the option letters (or no options at all);
* ``duplicate_question`` — the same question text again in the same scene (every copy after the first).

>>> from spatial_r1_eval.audit.readers import AuditRow
>>> q = "What is the distance between the chair and the chair (in meters)?"
>>> rows = [AuditRow(0, 1, "a", "s", None, "object_abs_distance", False, q, [], "0",
...                  {"object1": "chair", "object2": "chair"})]
>>> sorted(check_sanity(rows)["per_type"]["object_abs_distance"])
['bad_number', 'repeated_category']
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from spatial_r1_eval.audit.readers import AuditRow
from spatial_r1_eval.generation.generators import STRUCTURAL_LABELS
from spatial_r1_eval.questions import is_multiple_choice, is_numerical
from spatial_r1_eval.scoring import numeric_ground_truth
from spatial_r1_eval.tasks.baselines import option_text

CHECKS: tuple[str, ...] = (
    "repeated_category",
    "structural_category",
    "not_unique",
    "absent_from_scene",
    "bad_number",
    "duplicate_options",
    "truth_not_in_options",
    "duplicate_question",
)
#: checks that make a row's answer unusable (the bias fits leave such rows out)
ANSWER_CHECKS = frozenset({"bad_number", "truth_not_in_options"})
#: question type -> template fields naming the categories it asks about
CATEGORY_FIELDS: dict[str, tuple[str, ...]] = {
    "object_counting": ("category",),
    "object_size_estimation": ("category",),
    "object_abs_distance": ("object1", "object2"),
    "object_rel_distance": ("category", "choice_a", "choice_b", "choice_c", "choice_d"),
    "object_rel_direction_easy": ("positioning", "orienting", "querying"),
    "object_rel_direction_medium": ("positioning", "orienting", "querying"),
    "object_rel_direction_hard": ("positioning", "orienting", "querying"),
    "obj_appearance_order": ("choice_a", "choice_b", "choice_c", "choice_d"),
}
#: question type -> fields whose category must have exactly one instance in the scene
UNIQUE_FIELDS: dict[str, tuple[str, ...]] = {
    "object_size_estimation": ("category",),
    "object_abs_distance": ("object1", "object2"),
    "object_rel_distance": ("category",),
    "object_rel_direction_easy": ("positioning", "orienting", "querying"),
    "object_rel_direction_medium": ("positioning", "orienting", "querying"),
    "object_rel_direction_hard": ("positioning", "orienting", "querying"),
}
EXAMPLES = 5  # examples kept per (question type, check)


def row_issues(row: AuditRow, scene_counts: Mapping[str, int] | None = None) -> list[tuple[str, str]]:
    """The ``(check, detail)`` failures of one row, duplicates aside (see the module docstring)."""
    out: list[tuple[str, str]] = []
    qt = row.question_type
    if qt is None:
        return out
    names = [row.fields[f] for f in CATEGORY_FIELDS.get(qt, ()) if row.fields and f in row.fields]
    seen = Counter(n.strip().lower() for n in names)
    repeated = sorted(n for n, k in seen.items() if k > 1)
    if repeated:
        out.append(("repeated_category", ", ".join(repeated)))
    structural = sorted(n for n in seen if n in STRUCTURAL_LABELS)
    if structural:
        out.append(("structural_category", ", ".join(structural)))
    if scene_counts is not None and row.fields:
        absent = sorted({n for n in names if scene_counts.get(n, 0) == 0 and n.lower() not in STRUCTURAL_LABELS})
        if absent:
            out.append(("absent_from_scene", ", ".join(absent)))
        several = sorted({f"{row.fields[f]} ({scene_counts[row.fields[f]]})" for f in UNIQUE_FIELDS.get(qt, ())
                          if f in row.fields and scene_counts.get(row.fields[f], 0) > 1})  # fmt: skip
        if several:
            out.append(("not_unique", ", ".join(several)))
    if is_numerical(qt):
        try:
            numeric_ground_truth(row.record())
        except ValueError:
            out.append(("bad_number", repr(row.ground_truth)))
    elif is_multiple_choice(qt):
        texts = Counter(option_text(o).lower() for o in row.options)
        dups = sorted(t for t, k in texts.items() if k > 1)
        if dups:
            out.append(("duplicate_options", ", ".join(dups)))
        if row.answer_text() is None:
            out.append(("truth_not_in_options", f"{row.ground_truth!r} of {len(row.options)} options"))
    return out


def check_sanity(
    rows: Sequence[AuditRow], scene_counts: Mapping[str, Mapping[str, int]] | None = None
) -> dict[str, Any]:
    """Sanity report: ``per_type`` (question type -> check -> rows failing it), ``rows_with_issues``, ``examples``
    (question type -> check -> up to :data:`EXAMPLES` ``{line, id, detail}``), ``bad_lines`` (lines whose answer
    is unusable) and ``unknown_type`` (rows no template matches).

    Args:
        rows: The rows.
        scene_counts: Scene name -> category -> instances, for the scenes that are available (``--scannet``).
    """
    per_type: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    bad_lines: list[int] = []
    flagged: set[int] = set()
    seen_questions: set[tuple[str | None, str]] = set()
    unknown = 0
    for r in rows:
        if r.question_type is None:
            unknown += 1
            continue
        issues = row_issues(r, None if scene_counts is None else scene_counts.get(r.scene or ""))
        key = (r.scene, " ".join(r.question.split()).lower())
        if key in seen_questions:
            issues.append(("duplicate_question", f"scene {r.scene}"))
        seen_questions.add(key)
        for check, detail in issues:
            per_type[r.question_type][check] += 1
            bucket = examples[r.question_type][check]
            if len(bucket) < EXAMPLES:
                bucket.append({"line": r.line, "id": r.id, "detail": detail})
        if issues:
            flagged.add(r.line)
        if any(check in ANSWER_CHECKS for check, _ in issues):
            bad_lines.append(r.line)
    return {
        "per_type": {qt: {c: per_type[qt][c] for c in CHECKS if per_type[qt][c]} for qt in sorted(per_type)},
        "totals": {c: sum(per_type[qt][c] for qt in per_type) for c in CHECKS},
        "rows_with_issues": len(flagged),
        "examples": {qt: dict(v) for qt, v in sorted(examples.items())},
        "bad_lines": bad_lines,
        "unknown_type": unknown,
        "scene_checks": scene_counts is not None,
    }
