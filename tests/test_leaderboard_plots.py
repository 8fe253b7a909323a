"""Bar and radar charts: real PNG/SVG files, readable sizes, data actually drawn, deterministic bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatial_r1_eval.leaderboard.plots import bar_chart_svg, plot_rows, save_bar_chart, save_radar_chart
from spatial_r1_eval.leaderboard.reference import load_reference
from spatial_r1_eval.leaderboard.table import COLUMNS, Leaderboard, Row, build_leaderboard


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    board = build_leaderboard(reference=load_reference("spatial-r1-table1"))
    mine = Row("mine", {c: (None if c == "room_size_estimation" else 70.0) for c in COLUMNS})
    mine.ci = {c: (v - 5, v + 5) for c, v in mine.values.items() if v is not None}
    return [mine, board.row("Spatial-R1"), board.row("Chance Level (Random)")]


def _png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("save", [save_bar_chart, save_radar_chart])
def test_png_charts(save, rows, tmp_path: Path) -> None:
    path = save(rows, tmp_path / "chart.png")
    pixels = _png(path)
    assert pixels.shape[0] >= 500 and pixels.shape[1] >= 800
    colours = {tuple(c) for c in pixels.reshape(-1, 3)[::7]}
    assert len(colours) > 50  # text, axes and coloured series, not an empty canvas
    # the first series' colour (tab10 blue) is drawn
    assert (np.abs(pixels.astype(int) - (31, 119, 180)).sum(axis=2) < 30).sum() > 200
    first = path.read_bytes()
    assert save(rows, tmp_path / "chart.png").read_bytes() == first  # deterministic


def test_svg_outputs(rows, tmp_path: Path) -> None:
    svg = bar_chart_svg(rows)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert bar_chart_svg(rows) == svg
    path = save_radar_chart(rows, tmp_path / "radar.svg")
    text = path.read_text()
    assert "<svg" in text and save_radar_chart(rows, tmp_path / "radar.svg").read_text() == text


def test_bar_heights_follow_the_data(rows, tmp_path: Path) -> None:
    """A single-series chart: the bar for a higher score is taller (pixel count of the bar colour per column)."""
    row = Row("one", {c: 10.0 * (i + 1) for i, c in enumerate(COLUMNS)})
    pixels = _png(save_bar_chart([row], tmp_path / "one.png"))
    blue = np.abs(pixels.astype(int) - (31, 119, 180)).sum(axis=2) < 30
    heights = blue.sum(axis=0)
    columns_with_bars = np.flatnonzero(heights > 20)  # the legend patch is only ~10 px tall
    groups = np.split(columns_with_bars, np.flatnonzero(np.diff(columns_with_bars) > 3) + 1)
    tallest = [int(heights[g].max()) for g in groups]
    assert len(tallest) == len(COLUMNS)
    assert tallest == sorted(tallest)


def test_plot_rows_and_errors(rows) -> None:
    board = Leaderboard(list(rows), baseline="Spatial-R1")
    assert [r.name for r in plot_rows(board)][:2] == ["Spatial-R1", "mine"]
    assert [r.name for r in plot_rows(board, ["mine"])] == ["mine"]
    with pytest.raises(ValueError, match="no row named 'x'"):
        plot_rows(board, ["x"])
    with pytest.raises(ValueError, match="nothing to plot"):
        save_bar_chart([], "unused.png")
