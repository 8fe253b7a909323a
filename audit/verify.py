"""Answer verification against ScanNet scans: every answer re-derived with our generators.

For the rows whose scene is a folder of ``--scannet ROOT/scans``, the scene is loaded once
(:func:`~spatial_r1_eval.generation.scannet_scene.load_scene`) and each answer recomputed with the generators'
answer functions (:func:`spatial_r1_eval.generation.validate_cli.recompute`: counts, box sizes, room area, box
distances, relative distance and direction; paper variant by default, ``vsibench`` on request). Agreement:

* counting — exact; sizes, distances, room size — relative error ``|given - derived| / derived <= tolerance``;
* multiple choice — the same letter.

Appearance order is re-derived from the scan's label images (first frame showing each category with at least
``appearance_min_pixels`` pixels, :func:`~spatial_r1_eval.generation.generators.first_appearance_times`) when the
scene has frames. Route planning (needs a navigation plan) is not re-derived and is counted as ``skipped``; so are
rows whose categories the scene does not have, and rows naming a category that the
template needs unique but the scene has several of (no single answer; the sanity check reports them).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spatial_r1_eval.audit.readers import AuditRow
from spatial_r1_eval.audit.sanity import UNIQUE_FIELDS
from spatial_r1_eval.questions import is_numerical

logger = logging.getLogger(__name__)

WORST = 10  # disagreements listed


def _relative_error(question_type: str, given: str, derived: str) -> float | None:
    """``|given - derived| / derived`` for numerical types, 0/1 for letters, ``None`` when ``given`` is no number."""
    if not is_numerical(question_type):
        return 0.0 if given.strip().upper() == derived.strip().upper() else 1.0
    try:
        g, d = float(given), float(derived)
    except ValueError:
        return None
    return abs(g - d) / d if d > 0 else float("inf")


def agrees(question_type: str, given: str, derived: str, tolerance: float) -> bool:
    """Whether a given answer agrees with the re-derived one (module docstring).

    >>> agrees("object_size_estimation", "104", "100", 0.05), agrees("object_counting", "4", "3", 0.5)
    (True, False)
    >>> agrees("object_rel_direction_easy", "b", "B", 0.0)
    True
    """
    err = _relative_error(question_type, given, derived)
    if err is None:
        return False
    if question_type == "object_counting":
        return err == 0.0
    return err <= tolerance + 1e-12


def _appearance_order(row: AuditRow, scene: Any, config: Any, cache: dict[str, Any]) -> str | None:
    """The letter of the true first-appearance order of the row's four categories, or ``None`` (no frames, or a
    category never seen); ties go to the alphabetically first category, as in the generator."""
    from spatial_r1_eval.generation.generators import first_appearance_times
    from spatial_r1_eval.tasks.baselines import option_text

    if not scene.frames or not row.fields:
        return None
    if "appearance" not in cache:
        cache["appearance"] = first_appearance_times(scene, config.appearance_min_pixels)
    times = cache["appearance"]
    cats = [row.fields.get(k) for k in ("choice_a", "choice_b", "choice_c", "choice_d")]
    if not all(c in times for c in cats):
        return None
    order = ", ".join(sorted(cats, key=lambda c: (times[c], c)))
    texts = [option_text(o) for o in row.options]
    return "ABCDEFGH"[texts.index(order)] if order in texts else None


def verify(
    rows: Sequence[AuditRow],
    scannet_root: str,
    *,
    variant: str = "paper",
    tolerance: float = 0.05,
    progress: bool = False,
) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """Re-derive the answers of the rows whose scene is under ``scannet_root/scans``.

    Returns:
        ``(report, scene_counts)``: the report (``per_type`` ``{rows, derived, agree, skipped}``, ``worst``
        disagreements, ``scenes`` loaded / missing / failed) and, per loaded scene, its category counts (for the
        sanity checks that need the scene).

    Raises:
        FileNotFoundError: ``scannet_root`` has no ``scans`` folder.
        ValueError: ``tolerance`` is negative.
    """
    from tqdm import tqdm

    from spatial_r1_eval.generation import generators as g
    from spatial_r1_eval.generation.scannet_scene import load_scene
    from spatial_r1_eval.generation.validate_cli import recompute

    if tolerance < 0:
        raise ValueError(f"--tolerance must be >= 0, got {tolerance}")
    scans = Path(scannet_root) / "scans"
    if not scans.is_dir():
        raise FileNotFoundError(f"{scans}: no such folder (--scannet expects the ScanNet layout ROOT/scans/<scene>/)")
    config = g.GeneratorConfig(variant=variant)
    by_scene: dict[str, list[AuditRow]] = defaultdict(list)
    for r in rows:
        if r.scene is not None and r.question_type is not None:
            by_scene[r.scene].append(r)
    present = sorted(s for s in by_scene if (scans / s).is_dir())
    per_type: dict[str, dict[str, int]] = defaultdict(lambda: {"rows": 0, "derived": 0, "agree": 0, "skipped": 0})
    disagreements: list[dict[str, Any]] = []
    counts: dict[str, dict[str, int]] = {}
    failed: dict[str, str] = {}
    for name in tqdm(present, desc="verify", unit="scene", disable=not progress):
        frames = any(r.question_type == "obj_appearance_order" for r in by_scene[name])
        try:
            scene = load_scene(scans / name, frames=frames)
        except (FileNotFoundError, ValueError) as e:
            failed[name] = str(e).splitlines()[0]
            continue
        counts[name] = g.category_counts(scene)
        cache: dict[str, Any] = {}
        for r in by_scene[name]:
            stats = per_type[r.question_type]
            stats["rows"] += 1
            if r.fields and any(
                counts[name].get(r.fields.get(f, ""), 0) > 1 for f in UNIQUE_FIELDS.get(r.question_type, ())
            ):
                stats["skipped"] += 1  # the template needs a unique category: no single answer (sanity: not_unique)
                continue
            try:
                if r.question_type == "obj_appearance_order":
                    derived = _appearance_order(r, scene, config, cache)
                else:
                    derived = recompute({**r.record(), "question": r.question}, scene, config, cache)
            except (KeyError, IndexError, ValueError):
                derived = None  # a category the scene lacks, or an option set without the derived answer
            if derived is None:
                stats["skipped"] += 1
                continue
            stats["derived"] += 1
            if agrees(r.question_type, r.ground_truth, derived, tolerance):
                stats["agree"] += 1
                continue
            err = _relative_error(r.question_type, r.ground_truth, derived)
            disagreements.append(
                {
                    "line": r.line,
                    "id": r.id,
                    "scene": name,
                    "question_type": r.question_type,
                    "question": r.question,
                    "given": r.ground_truth,
                    "derived": derived,
                    "error": None if err is None else round(err, 6),
                }  # fmt: skip
            )
    disagreements.sort(key=lambda d: (-(d["error"] if d["error"] is not None else float("inf")), d["line"]))
    report = {
        "variant": variant,
        "tolerance": tolerance,
        "per_type": {qt: per_type[qt] for qt in sorted(per_type)},
        "disagreements": len(disagreements),
        "worst": disagreements[:WORST],
        "scenes": {"loaded": len(counts), "not_under_root": len(by_scene) - len(present), "failed": failed},
    }
    return report, counts
