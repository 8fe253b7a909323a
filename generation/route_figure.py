"""Draw one generated route on the scene's floor plan (PNG): occupancy grid, object footprints, path and turns.

``python -m spatial_r1_eval.generation.route_figure --scene DIR --out route.png [--pick K] [--seed S]`` loads a
ScanNet-layout scene folder, generates its route questions and draws the ``K``-th (default: the one with most
turns, ties to the first).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from spatial_r1_eval.files import atomic_open
from spatial_r1_eval.generation import routes
from spatial_r1_eval.generation.scene import Scene

logger = logging.getLogger(__name__)


def plot_route(scene: Scene, candidate: Any, config: Any, path: str | Path) -> Path:
    """Write a PNG of ``candidate`` (a ``route_planning`` :class:`Candidate` of ``scene``) on the floor plan.

    Grey: obstacle footprints on the free floor (white; outside is dark); blue outlines: the unique objects routes
    may visit; the path from the start (green dot) with the heading (dashed, towards the facing object) and each
    turn's label at the point where it is made.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spatial_r1_eval.generation.ground_truth import category_objects, unique_categories

    groups = category_objects(scene)
    names = unique_categories(scene)
    index = {id(o): k for k, o in enumerate(scene.objects)}
    grid = routes.occupancy_grid(scene, [index[id(groups[n][0])] for n in names], config)
    h, w = grid.free.shape
    fig, ax = plt.subplots(figsize=(7, 7 * h / max(w, 1) + 0.6), dpi=110)
    _draw_floor(ax, grid)
    centres, _ = routes.walkable_legs(scene, config, Counter())
    for n in names:
        poly = routes.footprint_polygon(groups[n][0])
        ax.fill(poly[:, 0], poly[:, 1], fill=False, edgecolor="tab:blue", linewidth=1)
        ax.text(*centres[n], n, fontsize=7, ha="center", va="center", color="tab:blue")
    _draw_route(ax, candidate, centres)
    for k, obj in enumerate(scene.objects):  # the other obstacles (repeated categories), in grey
        if k in grid.footprints and obj.label not in names:
            ax.text(*obj.obb.centroid[:2], obj.label, fontsize=6, ha="center", va="center", color="dimgray")
    meta = candidate.meta
    options = "\n".join(f"  {chr(65 + i)}. {c}" + ("   <- answer" if c == candidate.answer else "")
                        for i, c in enumerate(candidate.choices))  # fmt: skip
    ax.set_title(f"{scene.name}: start {meta['start']} (green) facing {meta['facing']} (dashed) -> goal "
                 f"{meta['waypoints'][-1]} (star)\noptions (canonical order):\n{options}", fontsize=8,
                 loc="left")  # fmt: skip
    ax.set_xlabel("x (m, aligned frame)")
    ax.set_ylabel("y (m)")
    ax.set_aspect("equal")
    fig.tight_layout()
    out = Path(path)
    with atomic_open(out, "wb") as f:
        fig.savefig(f, format="png", bbox_inches="tight")
    plt.close(fig)
    return out


def _draw_floor(ax: Any, grid: routes.OccupancyGrid) -> None:
    """The floor plan: free floor white, obstacle footprints grey, outside dark (metres, aligned frame)."""
    img = np.where(grid.free, 1.0, 0.25)
    for mask in grid.footprints.values():
        img = np.where(mask, 0.6, img)
    h, w = img.shape
    x0, y0 = grid.origin - grid.cell / 2
    ax.imshow(img, cmap="gray", vmin=0, vmax=1, origin="lower",
              extent=(x0, x0 + w * grid.cell, y0, y0 + h * grid.cell))  # fmt: skip


def _draw_route(ax: Any, candidate: Any, centres: dict[str, np.ndarray]) -> None:
    """The route: legs with arrows (red), the start (green dot) and its heading (dashed), each turn's label, the goal
    (star)."""
    meta = candidate.meta
    pts = np.array([centres[n] for n in [meta["start"], *meta["waypoints"]]])
    ax.plot(pts[:, 0], pts[:, 1], "-", color="tab:red", linewidth=2.5, zorder=3)
    for a, b in zip(pts, pts[1:], strict=False):
        ax.annotate("", xy=b, xytext=a + 0.55 * (b - a), zorder=4,
                    arrowprops={"arrowstyle": "-|>", "color": "tab:red", "lw": 2})  # fmt: skip
    facing = centres[meta["facing"]]
    ax.plot([pts[0, 0], facing[0]], [pts[0, 1], facing[1]], "--", color="tab:green", linewidth=1.5, zorder=3)
    ax.plot(*pts[0], "o", color="tab:green", markersize=10, zorder=5)
    turns = candidate.answer.split(", ")
    corners = ([pts[0]] if meta["form"] == "turn" else []) + list(pts[1:-1])
    for k, (p, t, change) in enumerate(zip(corners, turns, meta["turn_changes_deg"], strict=True)):
        ax.annotate(f"{k + 1}. {t} ({change:+.0f}°)", xy=p, xytext=(8, 8), textcoords="offset points", fontsize=8,
                    color="black", zorder=6, bbox={"boxstyle": "round", "fc": "yellow", "alpha": 0.85})  # fmt: skip
    ax.plot(*pts[-1], "*", color="tab:red", markersize=14, zorder=5)


def main(argv: list[str] | None = None) -> int:
    """Command line: draw one route question of a scene folder."""
    from spatial_r1_eval.generation.generators import GeneratorConfig, generate_scene
    from spatial_r1_eval.generation.scannet_scene import load_scene

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scene", required=True, help="ScanNet-layout scene folder")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--pick", type=int, default=None, help="index of the route question (default: most turns)")
    parser.add_argument("--seed", type=int, default=0, help="generation seed")
    args = parser.parse_args(argv)
    try:
        scene = load_scene(args.scene, frames=False)
    except (FileNotFoundError, ValueError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    config = GeneratorConfig()
    cands, _ = generate_scene(scene, ["route_planning"], config, args.seed)
    if not cands:
        sys.stderr.write(f"error: {args.scene}: no route question could be generated\n")
        return 1
    pick = args.pick if args.pick is not None else max(range(len(cands)), key=lambda i: len(cands[i].answer))
    if not 0 <= pick < len(cands):
        sys.stderr.write(f"error: --pick must be in [0, {len(cands)}), got {pick}\n")
        return 2
    sys.stdout.write(f"{plot_route(scene, cands[pick], config, args.out)}: {cands[pick].question}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
