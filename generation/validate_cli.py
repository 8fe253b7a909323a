"""Recompute VSI-Bench answers from its metadata with our generators' ``vsibench`` variants; print the agreement.

``spatial-r1 validate-vsibench --meta-dir DIR --questions test.jsonl --out recomputed.jsonl`` reads VSI-Bench's
``meta_info`` (oriented boxes, counts, room sizes) and its questions, parses the objects each question names,
recomputes the answer (``{"id", "recomputed"}`` per line, in the ground truth's format: a number or a letter) and
prints, per question type, how many questions agree with the published ground truth (counting exact, size ±1 cm,
absolute distance ±0.1 m, room size to the printed decimal, multiple choice same letter). Appearance order cannot
be recomputed from boxes (it needs the videos) and is listed as skipped.

Route planning is recomputed where the question follows the template (:func:`~spatial_r1_eval.generation.routes.
parse_route_question`) and every object it names (start, facing, waypoints) is a unique category of the metadata:
legs join box centres, each turn is the generator's :func:`~spatial_r1_eval.generation.routes.turn_label` without
margins; "at the X facing the X" faces X from the metadata's ``room_center``. Most route questions name doors,
windows, sinks or walls, which the metadata lacks, so only a handful are recomputable; the table adds their
turn-by-turn agreement.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import defaultdict
from typing import Any

logger = logging.getLogger(__name__)

#: Names VSI-Bench's questions use for a metadata category (question name -> meta_info name).
QUESTION_ALIASES = {"coat rack": "coat hanger"}
#: Agreement tolerances for numerical answers.
TOLERANCE = {"object_counting": 0.0, "object_size_estimation": 1.0, "object_abs_distance": 0.1}


def _letter(record: dict[str, Any], text: str) -> str | None:
    for opt in record.get("options") or []:
        letter, _, body = str(opt).partition(". ")
        if QUESTION_ALIASES.get(body.strip(), body.strip()) == text:
            return letter.strip()
    return None


def _option_text(record: dict[str, Any], letter: str) -> str:
    for opt in record.get("options") or []:
        head, _, body = str(opt).partition(". ")
        if head.strip() == letter.strip():
            return body.strip()
    return ""


def recompute(record: dict[str, Any], scene: Any, config: Any, cache: dict[str, Any]) -> str | None:
    """The answer of one VSI-Bench question recomputed from its scene's metadata, or ``None`` when not possible."""
    from spatial_r1_eval.generation import geometry
    from spatial_r1_eval.generation import ground_truth as g
    from spatial_r1_eval.generation.templates import TEMPLATES, parse_question

    qt = record.get("question_type")
    if qt == "route_planning":
        text = recompute_route(record, scene, config)
        return None if text is None else (_letter(record, text) or "-")  # "-": a sequence no option offers
    if qt not in TEMPLATES or qt == "obj_appearance_order":
        return None
    groups = g.category_objects(scene)
    vocab = [*groups, *(alias for alias, name in QUESTION_ALIASES.items() if name in groups)]
    fields = parse_question(qt, str(record.get("question", "")), vocab) if qt != "room_size_estimation" else {}
    if fields is None:
        return None
    fields = {k: QUESTION_ALIASES.get(v, v) for k, v in fields.items()}
    if qt == "object_counting":
        n = g.category_counts(scene).get(fields["category"])
        return None if n is None else str(n)
    if qt == "object_size_estimation":
        return str(g.object_size_cm(groups[fields["category"]][0], config.variant))
    if qt == "room_size_estimation":
        return f"{round(g.room_size_m2(scene, config), 1):.1f}"
    dist = cache.setdefault("dist", g.DistanceCache(scene, config.variant))
    if qt == "object_abs_distance":
        return f"{round(dist(fields['object1'], fields['object2']), 1):.1f}"
    if qt == "object_rel_distance":
        choices = [fields[k] for k in ("choice_a", "choice_b", "choice_c", "choice_d")]
        d = [dist(fields["category"], c) for c in choices]
        return _letter(record, choices[d.index(min(d))])
    # direction: centroid of the first box of each category (VSI-Bench's [0])
    p, o, q = (
        g.object_centroid(groups[fields[k]][0], config.variant) for k in ("positioning", "orienting", "querying")
    )
    angle = float(geometry.ccw_angle_deg(p, o, q))
    if qt == "object_rel_direction_easy":
        label = "left" if angle < 180 else "right"
    else:
        label = g.direction_sector(angle, qt)
    return _letter(record, label)


def recompute_route(record: dict[str, Any], scene: Any, config: Any) -> str | None:
    """The turn sequence ("Turn Left, Turn Back") of a VSI-Bench route question, or ``None`` (module docstring)."""
    import numpy as np

    from spatial_r1_eval.generation import ground_truth as g
    from spatial_r1_eval.generation import routes

    parsed = routes.parse_route_question(str(record.get("question", "")))
    if parsed is None:
        return None
    counts, groups = g.category_counts(scene), g.category_objects(scene)
    name = {
        n: QUESTION_ALIASES.get(n.lower(), n.lower())
        for n in [parsed["start"], parsed["facing"], *filter(None, parsed["steps"])]
    }
    if any(counts.get(v) != 1 or v not in groups for v in name.values()):
        return None
    centre = {n: g.object_centroid(groups[v][0], config.variant)[:2] for n, v in name.items()}
    here = centre[parsed["start"]]
    if name[parsed["facing"]] == name[parsed["start"]]:
        room_center = getattr(scene, "room_center", None)
        if room_center is None:
            return None
        ahead = 2 * here - np.asarray(room_center)[:2]
    else:
        ahead = centre[parsed["facing"]]
    turns, pending = [], False
    for step in parsed["steps"]:
        if step is None:
            if pending:
                return None
            pending = True
            continue
        if pending:
            label, _ = routes.turn_label(
                routes.heading_change_deg(here, ahead, centre[step]), config.route_back_deg, 0.0
            )
            if label is None:
                return None
            turns.append(label)
        pending = False
        ahead, here = 2 * centre[step] - here, centre[step]
    if pending or not turns:
        return None
    return ", ".join(turns)


def agrees(question_type: str, recomputed: str, ground_truth: str) -> bool:
    """Whether a recomputed answer agrees with the published one (see module docstring for tolerances).

    Example:
        >>> agrees("object_abs_distance", "2.0", "2.1"), agrees("object_size_estimation", "62", "64")
        (True, False)
    """
    if question_type in TOLERANCE:
        try:
            return abs(float(recomputed) - float(ground_truth)) <= TOLERANCE[question_type] + 1e-9
        except ValueError:
            return False
    if question_type == "room_size_estimation":
        return f"{float(recomputed):.1f}" == f"{float(ground_truth):.1f}"
    return recomputed.strip().upper() == str(ground_truth).strip().upper()


def validate(meta_dir: str, questions: str, out: str | None = None, variant: str = "vsibench") -> dict[str, dict]:
    """Recompute every recomputable question; returns per question type ``{questions, recomputed, agree}``."""
    from tqdm import tqdm

    from spatial_r1_eval.files import read_jsonl, write_jsonl
    from spatial_r1_eval.generation.config import GeneratorConfig
    from spatial_r1_eval.generation.vsibench_meta import load_meta_dir

    scenes = load_meta_dir(meta_dir)
    records = read_jsonl(questions)
    config = GeneratorConfig(variant=variant)
    stats: dict[str, dict] = defaultdict(lambda: {"questions": 0, "recomputed": 0, "agree": 0})
    caches: dict[tuple[str, str], dict] = defaultdict(dict)
    rows = []
    for rec in tqdm(records, desc="validate-vsibench", unit="q"):
        qt = str(rec.get("question_type"))
        stats[qt]["questions"] += 1
        key = (str(rec.get("dataset")), str(rec.get("scene_name")))
        scene = scenes.get(key)
        if scene is None:
            continue
        value = recompute(rec, scene, config, caches[key])
        if value is None:
            continue
        stats[qt]["recomputed"] += 1
        stats[qt]["agree"] += agrees(qt, value, str(rec.get("ground_truth")))
        if qt == "route_planning":  # turn by turn
            mine = str(recompute_route(rec, scene, config)).split(", ")
            truth = _option_text(rec, str(rec.get("ground_truth"))).split(", ")
            stats[qt]["turns"] = stats[qt].get("turns", 0) + len(truth)
            stats[qt]["turns_agree"] = stats[qt].get("turns_agree", 0) + sum(
                a == b for a, b in zip(mine, truth, strict=False)
            )
        rows.append({"id": rec.get("id"), "recomputed": value})
    if out:
        write_jsonl(out, rows)
    return dict(stats)


def format_table(stats: dict[str, dict]) -> str:
    """Plain-text table of the agreement per question type."""
    from tabulate import tabulate

    rows = []
    for qt in sorted(stats):
        s = stats[qt]
        pct = f"{100.0 * s['agree'] / s['recomputed']:.2f}" if s["recomputed"] else "skipped"
        rows.append([qt, s["questions"], s["recomputed"], s["agree"], pct])
    table = tabulate(rows, headers=["question_type", "questions", "recomputed", "agree", "agreement %"])
    route = stats.get("route_planning", {})
    if route.get("turns"):
        table += f"\nroute_planning turns: {route['turns_agree']} of {route['turns']} agree"
    return table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``spatial-r1 validate-vsibench`` (``--variant``: the generator variant to recompute with)."""
    from spatial_r1_eval.generation.config import GeneratorConfig
    from spatial_r1_eval.generation.config_flags import add_dataclass_flags

    parser.add_argument("--meta-dir", required=True, help="VSI-Bench meta_info folder (*_meta_info_val.json)")
    parser.add_argument("--questions", required=True, help="VSI-Bench questions (test.jsonl)")
    parser.add_argument("--out", default=None, help="write {id, recomputed} per line here")
    add_dataclass_flags(parser, GeneratorConfig, only=["variant"], defaults={"variant": "vsibench"})


def run(args: argparse.Namespace) -> int:
    """Recompute the answers, write ``--out`` when given and print the agreement table."""
    stats = validate(args.meta_dir, args.questions, args.out, args.variant)
    sys.stdout.write(format_table(stats) + "\n")
    return 0
