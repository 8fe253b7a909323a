"""Route planning, VSI-Bench's eighth task, generated from scan geometry.

A route starts at a unique object S, facing a unique object F, and visits 1-4 further unique objects (the goal
last) along straight legs between object centres (:func:`~spatial_r1_eval.generation.ground_truth.object_centroid`).
Two forms, as in VSI-Bench:

- ``forward``: "1. Go forward until the F 2. [please fill in] 3. Go forward until the W2 ..." (F is the first
  waypoint; the route has 2-4 waypoints and one turn at each waypoint but the goal);
- ``turn``: "1. [please fill in] 2. Go forward until the W1 ..." (the first turn is made at S, from the heading
  S→F to S→W1; F is not visited; 1-3 waypoints).

**Walkability.** An :class:`OccupancyGrid` (``route_cell`` m cells) holds the free floor (the cells holding a floor
point, morphologically closed over the points' spacing, plus every object footprint) and the footprint of every
obstacle (the floor-plane rectangle of its oriented box; objects whose box starts higher than
``route_max_obstacle_bottom`` above the floor and floor-like labels are not obstacles). A leg A→B is walkable when
every point of the segment outside the footprints of A and B (the objects' own footprints are allowed at the ends)
keeps ``route_clearance`` m from every other footprint and from the edge of the free floor. Legs shorter than
``route_min_leg`` are ``trivial_leg``; legs whose grid clearance lies within ``route_walk_margin`` of
``route_clearance`` are rejected as ``near_walkability_boundary`` (the grid cannot decide them), so the decision
equals the exact one on the true rectangles (the synthetic answer key, ``tests/test_generation_routes.py``).

**Turns.** The heading change at a waypoint (incoming leg to outgoing leg; for the first turn of a ``turn`` route,
S→F to S→W1) is a signed angle, positive counter-clockwise seen from above = **left** (the 2-D cross product,
as ``object_rel_direction``); **back** when its magnitude exceeds ``route_back_deg`` (135°, the medium direction
level's back sector; VSI-Bench's recomputable route questions agree with it, ``validate-vsibench``). Turns within
``route_margin_deg`` of a sector boundary (0° and ±135°) are rejected (``near_straight``, ``near_back_boundary``).

**Options without VSI-Bench's shortcut.** VSI-Bench offers "Turn Back" in every slot although it is practically
only ever the answer of a route's first turn, and only when the route starts with a turn. Here a slot offers
Back only where it can be the answer: the first slot of a ``turn`` route; a back turn anywhere else is rejected
(``back_turn_mid_route``). The options are then a uniformly random set of valid turn sequences containing the
answer: all of them when there are at most four (2 options for one Left/Right slot, 3 with Back, 4 for two
Left/Right slots), else the answer plus three drawn uniformly from the rest. Given the option set, the
chance of each member being the answer is proportional to its frequency in the route's shape.

**Answer balance.** The geometry alone makes some answers far more frequent within a shape (Back is a rare first
turn; alternating sequences beat repeated ones), which a text-only model reads off the options (measured on 40
synthetic scenes, uncapped: 42.6% text-only against the frequency baseline's 25.0%). So the selection
(:func:`spatial_r1_eval.generation.filters.select`) keeps, per observable shape (form × number of turns,
:func:`answer_shape`), the same number of questions for every answer of the shape's :func:`answer_space`, a
seeded choice, the rest rejected as ``answer_balance`` (a shape with an answer never drawn is dropped whole): then
every offered option is equally likely to be the answer, and the letters are balanced per option count, so neither
the option texts nor their number tell anything beyond the frequency baseline.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatial_r1_eval.generation import geometry
from spatial_r1_eval.generation.ground_truth import category_objects, object_centroid, unique_categories
from spatial_r1_eval.generation.route_grid import WALKABLE_LABELS, OccupancyGrid, footprint_polygon, occupancy_grid
from spatial_r1_eval.generation.scene import Scene
from spatial_r1_eval.generation.templates import TEMPLATES

__all__ = [
    "FILL",
    "FORWARD",
    "QT",
    "TURNS",
    "WALKABLE_LABELS",
    "Leg",
    "OccupancyGrid",
    "answer_shape",
    "answer_space",
    "footprint_polygon",
    "gen_route_planning",
    "heading_change_deg",
    "occupancy_grid",
    "parse_route_question",
    "route_options",
    "route_question",
    "route_turn_changes",
    "slot_choices",
    "turn_label",
    "walkable_legs",
]

logger = logging.getLogger(__name__)

QT = "route_planning"
TURNS = ("Turn Back", "Turn Left", "Turn Right")
FORWARD = "Go forward until the {}"
FILL = "[please fill in]"


# --------------------------------------------------------------------------------------------- turns


def heading_change_deg(origin: np.ndarray, ahead: np.ndarray, target: np.ndarray) -> float:
    """Signed heading change (degrees, (-180, 180]) from the direction origin→ahead to origin→target; positive =
    counter-clockwise seen from above = left.

    Example:
        >>> heading_change_deg(np.zeros(2), np.array([0.0, 1.0]), np.array([-1.0, 1.0]))
        45.0
        >>> heading_change_deg(np.zeros(2), np.array([0.0, 1.0]), np.array([1.0, -1.0]))
        -135.0
    """
    a = float(geometry.ccw_angle_deg(origin, ahead, target))
    return a if a <= 180.0 else a - 360.0


def turn_label(change_deg: float, back_deg: float = 135.0, margin_deg: float = 15.0) -> tuple[str | None, str]:
    """The turn of a heading change: ``"Turn Back"`` beyond ``back_deg``, else left (positive) or right; within
    ``margin_deg`` of 0° or ±``back_deg`` it is ``(None, reason)``.

    Example:
        >>> turn_label(60.0), turn_label(-100.0), turn_label(170.0)
        (('Turn Left', ''), ('Turn Right', ''), ('Turn Back', ''))
        >>> turn_label(5.0), turn_label(-140.0)
        ((None, 'near_straight'), (None, 'near_back_boundary'))
    """
    a = abs(change_deg)
    if a < margin_deg:
        return None, "near_straight"
    if abs(a - back_deg) < margin_deg:
        return None, "near_back_boundary"
    if a > back_deg:
        return "Turn Back", ""
    return ("Turn Left" if change_deg > 0 else "Turn Right"), ""


def route_turn_changes(centres: Sequence[np.ndarray], form: str, facing: np.ndarray | None = None) -> list[float]:
    """Heading changes along a route through ``centres`` (S, W1, ...): at every inner waypoint, plus, for a
    ``turn`` route, the first turn at S from S→``facing`` to S→W1.

    Example:
        >>> sq = [np.array(p, float) for p in ([0, 0], [0, 2], [2, 2])]
        >>> route_turn_changes(sq, "forward"), route_turn_changes(sq, "turn", facing=np.array([0.0, -1.0]))
        ([-90.0], [180.0, -90.0])
    """
    out = []
    if form == "turn":
        out.append(heading_change_deg(centres[0], facing, centres[1]))
    for prev, here, nxt in zip(centres, centres[1:], centres[2:], strict=False):
        out.append(heading_change_deg(here, 2 * here - prev, nxt))
    return out


def slot_choices(form: str, n_turns: int) -> list[tuple[str, ...]]:
    """The turns each slot offers: Back only in the first slot of a ``turn`` route (module docstring).

    Example:
        >>> slot_choices("turn", 2)
        [('Turn Back', 'Turn Left', 'Turn Right'), ('Turn Left', 'Turn Right')]
    """
    return [TURNS if (form == "turn" and k == 0) else TURNS[1:] for k in range(n_turns)]


def answer_space(form: str, n_turns: int) -> list[str]:
    """Every valid answer text of a route shape (form, number of turns), canonical order.

    Example:
        >>> answer_space("forward", 1), len(answer_space("turn", 3))
        (['Turn Left', 'Turn Right'], 12)
    """
    return [", ".join(s) for s in itertools.product(*slot_choices(form, n_turns))]


def answer_shape(meta: dict[str, Any], answer: str) -> tuple[tuple[str, int], list[str]]:
    """The observable shape of a route question, ``(form, number of turns)``, and its answer space: the key of
    the answer balance (:func:`spatial_r1_eval.generation.filters.select`, module docstring).

    Example:
        >>> answer_shape({"form": "turn"}, "Turn Back, Turn Left")[0]
        ('turn', 2)
    """
    key = (str(meta["form"]), answer.count(", ") + 1)
    return key, answer_space(*key)


def route_options(answer: Sequence[str], form: str, rng: np.random.Generator) -> list[str]:
    """Option texts (canonical order) for a turn sequence: every valid sequence when at most four, else the
    answer plus three other valid sequences drawn uniformly.

    Example:
        >>> route_options(["Turn Left"], "forward", np.random.default_rng(0))
        ['Turn Left', 'Turn Right']
        >>> len(route_options(["Turn Back", "Turn Left"], "turn", np.random.default_rng(0)))
        4
    """
    space = answer_space(form, len(answer))
    correct = ", ".join(answer)
    if correct not in space:
        raise ValueError(f"answer {correct!r} is not a valid {form} route answer")
    if len(space) <= 4:
        return space
    others = [s for s in space if s != correct]
    pick = set(rng.choice(len(others), size=3, replace=False).tolist())
    return [s for s in space if s == correct or (s in others and others.index(s) in pick)]


def route_question(start: str, facing: str, waypoints: Sequence[str], form: str) -> str:
    """VSI-Bench's route question text.

    Example:
        >>> route_question("sofa", "tv", ["tv", "bed"], "forward").split("'): ")[1][:-40]
        '1. Go forward until the tv 2. [please fill in] 3. Go forward until the bed.'
    """
    steps: list[str] = []
    for k, w in enumerate(waypoints):
        if form == "turn" or k > 0:
            steps.append(FILL)
        steps.append(FORWARD.format(w))
    actions = " ".join(f"{k + 1}. {s}" for k, s in enumerate(steps)) + "."
    return TEMPLATES[QT].format(start=start, facing=facing, goal=waypoints[-1], actions=actions)


_HEAD = re.compile(
    r"You are a robot beginning (?:at|by) the (?P<start>.+?),? (?:and )?facing (?:the |to |toward the )?"
    r"(?P<facing>.+?)\. You want to navigate to the (?P<goal>.+?)\. You will perform the following actions "
    r"\(Note: for each \[please fill in\], choose either 'turn back,' 'turn left,' or 'turn right\.'\): "
    r"(?P<actions>.*?)\.? You have reached the final destination\.$",
    re.DOTALL,
)
_STEP = re.compile(r"Go forward until the (?P<name>.+?)(?: is on your (?:left|right))?$")


def parse_route_question(question: str) -> dict[str, Any] | None:
    """Start, facing and steps (``None`` = a turn to fill in, else the waypoint name) of a route question, or
    ``None`` when a part does not follow the template (free-form steps such as "Go forward about 1 meter").

    Example:
        >>> q = route_question("sofa", "tv", ["tv", "bed"], "forward")
        >>> parse_route_question(q)
        {'start': 'sofa', 'facing': 'tv', 'steps': ['tv', None, 'bed']}
    """
    m = _HEAD.match(question.strip())
    if not m:
        return None
    steps: list[str | None] = []
    for part in re.split(r"\s*\d+\.\s", " " + m.group("actions"))[1:]:
        part = part.strip().rstrip(".")
        if part.lower() == FILL:
            steps.append(None)
            continue
        sm = _STEP.match(part)
        if not sm:
            return None
        steps.append(sm.group("name"))
    return {"start": m.group("start"), "facing": m.group("facing"), "steps": steps}


# --------------------------------------------------------------------------------------------- generator


@dataclass
class Leg:
    """A candidate leg between two unique objects: centre distance and grid clearance (m)."""

    length: float
    clearance: float


def walkable_legs(scene: Scene, config: Any, rej: Any) -> tuple[dict[str, np.ndarray], dict[tuple[str, str], Leg]]:
    """Centres of the unique non-structural objects, and every walkable leg between them (both directions).

    Each unordered pair is examined once; rejected pairs are counted into ``rej`` as ``trivial_leg`` (centres
    closer than ``route_min_leg``), ``leg_blocked`` or ``near_walkability_boundary``.
    """
    groups = category_objects(scene)
    names = unique_categories(scene)
    index = {id(o): k for k, o in enumerate(scene.objects)}
    idx = {n: index[id(groups[n][0])] for n in names}
    centres = {n: object_centroid(groups[n][0], config.variant)[:2] for n in names}
    legs: dict[tuple[str, str], Leg] = {}
    if len(names) < 2:
        return centres, legs
    grid = occupancy_grid(scene, list(idx.values()), config)
    for a, b in itertools.combinations(names, 2):
        length = float(np.linalg.norm(centres[b] - centres[a]))
        if length < config.route_min_leg:
            rej[(QT, "trivial_leg")] += 1
            continue
        clear = grid.leg_clearance(idx[a], idx[b], centres[a], centres[b])
        if abs(clear - config.route_clearance) < config.route_walk_margin:
            rej[(QT, "near_walkability_boundary")] += 1
            continue
        if clear < config.route_clearance:
            rej[(QT, "leg_blocked")] += 1
            continue
        legs[(a, b)] = legs[(b, a)] = Leg(length, clear)
    return centres, legs


def gen_route_planning(scene: Scene, config: Any, rng: np.random.Generator, rej: Any) -> list[Any]:
    """``route_planning``: random walks on the walkable legs (module docstring); at most ``max_candidates`` draws.

    Route-level rejections: ``too_few_unique_objects``, ``dead_end`` (the walk cannot go on without revisiting),
    ``no_facing_object`` (``turn`` routes: no unused object at least ``route_min_leg`` from S giving a clear first
    turn; the facing object is drawn so that the first turn is uniform over the turns possible), the turn reasons of
    :func:`turn_label`, ``back_turn_mid_route`` and ``duplicate``.
    """
    from spatial_r1_eval.generation.generators import Candidate

    centres, legs = walkable_legs(scene, config, rej)
    names = sorted(centres)
    if len(names) < 3:
        rej[(QT, "too_few_unique_objects")] += 1
        return []
    neighbours = {n: sorted(b for a, b in legs if a == n) for n in names}
    starts = [n for n in names if neighbours[n]]
    out, drawn = [], set()
    for _ in range(config.max_candidates if starts else 0):
        n_turns = int(rng.integers(1, config.route_max_turns + 1))
        form = ("forward", "turn")[int(rng.integers(2))]
        path = _random_walk(starts, neighbours, n_turns + (1 if form == "forward" else 0), rng)
        if len(path) < n_turns + (2 if form == "forward" else 1):
            rej[(QT, "dead_end")] += 1
            continue
        facing = path[1] if form == "forward" else _draw_facing(path, names, centres, config, rng)
        if facing is None:
            rej[(QT, "no_facing_object")] += 1
            continue
        changes = route_turn_changes([centres[n] for n in path], form, centres[facing])
        labels = [turn_label(c, config.route_back_deg, config.route_margin_deg) for c in changes]
        reason = next((r for lab, r in labels if lab is None), None)
        if reason is None and any(lab == "Turn Back" for lab, _ in labels[(1 if form == "turn" else 0) :]):
            reason = "back_turn_mid_route"
        if reason is not None:
            rej[(QT, reason)] += 1
            continue
        key = (form, facing, *path)
        if key in drawn:
            rej[(QT, "duplicate")] += 1
            continue
        drawn.add(key)
        answer = [lab for lab, _ in labels]
        q = route_question(path[0], facing, path[1:], form)
        meta = _route_meta(form, path, facing, changes, legs)
        out.append(Candidate(QT, q, ", ".join(answer), choices=route_options(answer, form, rng), meta=meta))
    return out


def _random_walk(
    starts: list[str], neighbours: dict[str, list[str]], steps: int, rng: np.random.Generator
) -> list[str]:
    """A seeded walk from a random start over up to ``steps`` legs, never revisiting (shorter at a dead end)."""
    path = [starts[int(rng.integers(len(starts)))]]
    for _step in range(steps):
        options = [n for n in neighbours[path[-1]] if n not in path]
        if not options:
            break
        path.append(options[int(rng.integers(len(options)))])
    return path


def _draw_facing(
    path: list[str], names: list[str], centres: dict[str, np.ndarray], config: Any, rng: np.random.Generator
) -> str | None:
    """The facing object of a ``turn`` route: first the first turn's label, uniformly among those possible, then an
    object giving it; ``None`` when no unused object at least ``route_min_leg`` from the start gives a clear turn."""
    s, w1 = centres[path[0]], centres[path[1]]
    by_turn: dict[str, list[str]] = {}
    for n in names:
        if n not in path and np.linalg.norm(centres[n] - s) >= config.route_min_leg:
            change = heading_change_deg(s, centres[n], w1)
            lab, _ = turn_label(change, config.route_back_deg, config.route_margin_deg)
            by_turn.setdefault(lab or "", []).append(n)
    turns = sorted(t for t in by_turn if t)
    if not turns:
        return None
    pool = by_turn[turns[int(rng.integers(len(turns)))]]
    return pool[int(rng.integers(len(pool)))]


def _route_meta(
    form: str, path: list[str], facing: str, changes: list[float], legs: dict[tuple[str, str], Leg]
) -> dict[str, Any]:
    """Provenance of a route question: form, objects, turn angles, leg lengths and clearances."""
    return {
        "form": form,
        "start": path[0],
        "facing": facing,
        "waypoints": path[1:],
        "turn_changes_deg": [round(c, 6) for c in changes],
        "leg_lengths_m": [round(legs[(a, b)].length, 6) for a, b in zip(path, path[1:], strict=False)],
        "leg_clearances_m": [
            round(min(legs[(a, b)].clearance, 99.0), 6) for a, b in zip(path, path[1:], strict=False)
        ],
    }
