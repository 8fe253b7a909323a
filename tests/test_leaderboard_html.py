"""The static HTML page: parsed with html.parser, and opened in headless Chromium (screenshot + sorted DOM)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatial_r1_eval.leaderboard.html import render_html, write_html
from spatial_r1_eval.leaderboard.reference import load_reference
from spatial_r1_eval.leaderboard.table import COLUMNS, Leaderboard, Row, build_leaderboard

BEST_BG = (0xFF, 0xF4, 0xCC)  # td.best background in the page's CSS


class PageParser(HTMLParser):
    """Collects tags, external references, and the leaderboard table's rows as text cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.rows: list[list[str]] = []
        self.best: list[str] = []
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for key in ("src", "href"):
            if attrs.get(key) and not attrs[key].startswith("#"):
                self.external.append(attrs[key])
        if tag == "table" and attrs.get("id") == "leaderboard":
            self._in_table = True
        if self._in_table and tag == "tr":
            self.rows.append([])
        if self._in_table and tag in ("td", "th"):
            self._cell = []
            if "best" in (attrs.get("class") or ""):
                self.best.append(str(len(self.rows[-1])))

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        if self._in_table and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def board() -> Leaderboard:
    rows = load_reference("spatial-r1-table1")
    board = build_leaderboard(reference=rows, baseline="Qwen2.5-VL-7B (zero-shot)")
    mine = Row("my model (sr)", {c: 50.0 + i for i, c in enumerate(COLUMNS)}, kind="run")
    mine.ci = {c: (v - 3.0, v + 3.0) for c, v in mine.values.items()}
    board.rows.append(mine)
    return board


def test_page_is_self_contained_and_complete(board: Leaderboard) -> None:
    page = render_html(board)
    parser = PageParser()
    parser.feed(page)
    parser.close()
    assert parser.external == []  # no CDN, no external scripts/styles/images
    assert {"style", "script", "svg", "table"} <= set(parser.tags)
    header, *body = parser.rows
    assert header == ["Model", "Obj Appearance Order", "Object Abs Distance", "Object Counting",
                      "Object Rel Distance", "Object Size Estimation", "Room Size Estimation", "Route Planning",
                      "Object Rel Direction", "Overall"]  # fmt: skip
    assert len(body) == len(board.rows)
    spatial = next(r for r in body if r[0] == "Spatial-R1")
    assert spatial[3] == "62.9(+28.9)"  # value + Δ vs baseline
    mine = next(r for r in body if r[0] == "my model (sr)")
    assert mine[-1] == "58.0(+23.6)[55.0, 61.0]"  # value, Δ, CI
    assert "Consistency check" in page and "Spatial-R1: Overall 41.8" in page
    assert render_html(board) == page  # deterministic


def test_chromium_screenshot_and_sorting(board: Leaderboard, tmp_path: Path, chromium) -> None:
    page = write_html(board, tmp_path / "lb.html")
    shot = tmp_path / "shot.png"
    proc = chromium("--window-size=1500,1300", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), proc.stderr[-2000:]
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.shape[:2] == (1300, 1500)
    dark = (pixels.sum(axis=2) < 200).mean()
    assert 0.005 < dark < 0.5  # text and chart drawn, not a blank or black page
    # the 'best' cells are highlighted: the CSS background colour is on screen
    assert (np.abs(pixels.astype(int) - BEST_BG).sum(axis=2) <= 6).sum() > 500
    # the inline JavaScript runs: #sort=9 sorts by Overall (descending, missing last)
    proc = chromium("--dump-dom", page.as_uri() + "#sort=9")
    parser = PageParser()
    parser.feed(proc.stdout)
    names = [r[0] for r in parser.rows[1:]]
    overall = {r.name: r.values["overall"] for r in board.rows}
    expected = sorted((n for n in overall if overall[n] is not None), key=lambda n: -overall[n])
    assert names[0] == "my model (sr)"
    assert [n.replace(" [baseline]", "") for n in names[: len(expected)]] == expected
    assert names[-1] == "Chance Level (Random)"
