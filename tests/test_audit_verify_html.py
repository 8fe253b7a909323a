"""spatial-r1 audit on our own generator output (must audit clean, answers re-derived from the synthetic scans agree
with the analytic answer key), corrupted answers found exactly, and the HTML page (html.parser + headless Chromium)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatial_r1_eval.audit.html import render_html, write_html
from spatial_r1_eval.audit.report import audit_file
from spatial_r1_eval.commands.cli import main
from spatial_r1_eval.generation.scene_lists import load_scene_list

DIRTY_RED = (0xB3, 0x26, 0x1E)  # p.dirty colour in the page's CSS


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(ScanNet root of 2 synthetic scenes with 10 s of frames, SR output folder generated from it without videos)."""
    from spatial_r1_eval.generation.pipeline import generate
    from spatial_r1_eval.generation.synth import write_synthetic_scenes

    root = tmp_path_factory.mktemp("audit_scannet")
    write_synthetic_scenes(root, 2, 0, n_points=20_000, n_frames=300, width=160, height=120)
    out = tmp_path_factory.mktemp("audit_sr")
    report = generate(root, out, seed=0, videos=False, progress=False)
    assert not report["scenes"]["failed"]
    return root, out


def test_own_generator_output_audits_clean(generated: tuple[Path, Path]) -> None:
    root, out = generated
    records = [json.loads(line) for line in (out / "sr.jsonl").read_text().splitlines()]
    reports = {}
    for name in ("sr.jsonl", "sr_train.jsonl", "sr.parquet"):
        rep = audit_file(out / name, scannet=root)
        assert rep["summary"] == {"leaking_rows": 0, "rows_with_issues": 0, "biased_types": [], "disagreements": 0,
                                  "clean": True}, name  # fmt: skip
        assert rep["sanity"]["scene_checks"] and rep["verification"]["scenes"]["loaded"] == 2
        reports[name] = rep
    assert reports["sr_train.jsonl"]["format"] == "video-r1" and reports["sr.jsonl"]["format"] == "vsibench"
    assert reports["sr_train.jsonl"]["verification"]["per_type"] == reports["sr.jsonl"]["verification"]["per_type"]
    per_type = reports["sr.jsonl"]["verification"]["per_type"]
    derived = {qt: s["derived"] for qt, s in per_type.items()}
    n = {qt: sum(r["question_type"] == qt for r in records) for qt in per_type}
    # every answer is re-derived, appearance order from the label images included
    assert derived == n and n["obj_appearance_order"] > 0
    # the re-derivation is checked against the scenes' analytic answer keys, not only against the generator
    keys = {d.name: json.loads((d / "answer_key.json").read_text()) for d in (root / "scans").iterdir()}
    sizes = [r for r in records if r["question_type"] == "object_size_estimation"]
    counts = [r for r in records if r["question_type"] == "object_counting"]
    assert sizes and counts
    for r in sizes:
        cat = r["question"].rsplit(" of the ", 1)[1].split(",")[0]
        assert int(r["ground_truth"]) in {o["size_cm"] for o in keys[r["scene_name"]]["objects"] if o["label"] == cat}
    for r in counts:
        cat = r["question"][len("How many ") : -len("(s) are in this room?")]
        assert int(r["ground_truth"]) == keys[r["scene_name"]]["counts"][cat]


def test_corrupted_answers_are_found(generated: tuple[Path, Path], tmp_path: Path) -> None:
    root, out = generated
    records = [json.loads(line) for line in (out / "sr.jsonl").read_text().splitlines()]
    numerical = [i for i, r in enumerate(records) if r["question_type"] in ("object_size_estimation",
                                                                             "object_abs_distance")][:3]  # fmt: skip
    letters = [i for i, r in enumerate(records) if r["question_type"] == "object_rel_direction_easy"][:2]
    for i in numerical:
        records[i]["ground_truth"] = str(round(float(records[i]["ground_truth"]) * 1.5, 1))
    for i in letters:
        records[i]["ground_truth"] = "B" if records[i]["ground_truth"] == "A" else "A"
    # a size question about a category with several instances in its scene (the template needs a unique one)
    key = json.loads((root / "scans" / records[0]["scene_name"] / "answer_key.json").read_text())
    several = next(c for c, k in sorted(key["counts"].items()) if k > 1)
    extra = {**records[0], "question_type": "object_size_estimation", "options": [], "ground_truth": "50",
             "question": f"What is the length of the longest dimension (length, width, or height) of the {several}, "
                         "measured in centimeters?"}  # fmt: skip
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in [*records, extra]))
    rep = audit_file(bad, scannet=root, bias=False)
    v = rep["verification"]
    assert v["disagreements"] == 5  # the extra question is not re-derived: its category is not unique
    assert sorted(d["line"] for d in v["worst"]) == sorted(i + 1 for i in numerical + letters)
    errors = {d["line"]: d["error"] for d in v["worst"]}
    assert [errors[i + 1] for i in letters] == [1.0, 1.0]  # a wrong letter
    assert [errors[i + 1] for i in numerical] == pytest.approx([0.5] * 3, abs=0.06)  # x1.5, 1-decimal rounding
    assert rep["sanity"]["per_type"]["object_size_estimation"] == {"not_unique": 1}
    assert rep["sanity"]["examples"]["object_size_estimation"]["not_unique"][0]["line"] == len(records) + 1
    # a tolerance wide enough for x1.5 leaves only the letters
    assert audit_file(bad, scannet=root, bias=False, tolerance=0.6)["verification"]["disagreements"] == 2
    # the command prints the worst disagreements and exits 1 with --fail-on-issues
    page = tmp_path / "audit.html"
    assert main(["audit", str(bad), "--scannet", str(root), "--no-bias", "--fail-on-issues", "--html", str(page)]) == 1
    assert page.is_file()


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        self.external += [attrs[k] for k in ("src", "href") if attrs.get(k) and not attrs[k].startswith("#")]


def test_html_page_self_contained_and_rendered(vsibench_dir: Path, tmp_path: Path, chromium) -> None:
    rep = audit_file(vsibench_dir / "test.jsonl", max_rows=300)
    page = render_html(rep)
    parser = _Parser()
    parser.feed(page)
    assert parser.external == [] and parser.tags.count("svg") == 2  # leakage and bias charts
    assert {"verdict", "leakage", "bias"} <= set(parser.ids)
    assert "NOT CLEAN: 5130 row(s) from test scenes" in page and render_html(rep) == page  # deterministic
    path = write_html(rep, tmp_path / "audit.html")
    shot = tmp_path / "shot.png"
    proc = chromium("--window-size=1200,1600", f"--screenshot={shot}", path.as_uri())
    assert shot.is_file(), proc.stderr[-2000:]
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB")).astype(int)
    assert 0.005 < (pixels.sum(axis=2) < 200).mean() < 0.5  # text and charts drawn
    assert (np.abs(pixels - DIRTY_RED).sum(axis=2) <= 30).sum() > 200  # the red NOT CLEAN verdict is on screen
    bars = (np.abs(pixels - (0x1F, 0x77, 0xB4)).sum(axis=2) <= 6).sum()  # matplotlib's first colour: the bars
    assert bars > 5000


def test_real_scan_generated_set_audits_clean(scannet_root: Path, tmp_path: Path) -> None:
    from spatial_r1_eval.generation.pipeline import generate

    out = tmp_path / "sr"
    generate(scannet_root, out, videos=False, progress=False, exclude_scenes=load_scene_list("vsibench"))
    rep = audit_file(out / "sr_train.jsonl", scannet=scannet_root)
    assert rep["summary"]["clean"] and rep["verification"]["scenes"]["loaded"] == 1
    v = rep["verification"]["per_type"]
    assert sum(s["derived"] for s in v.values()) == rep["rows"] > 0
    # every size answer made 20 % too large is a disagreement, and nothing else is
    records = [json.loads(line) for line in (out / "sr.jsonl").read_text().splitlines()]
    wrong = [dict(r, ground_truth=str(round(float(r["ground_truth"]) * 1.2)))
             if r["question_type"] == "object_size_estimation" else r for r in records]  # fmt: skip
    (tmp_path / "wrong.jsonl").write_text("".join(json.dumps(r) + "\n" for r in wrong))
    rep = audit_file(tmp_path / "wrong.jsonl", scannet=scannet_root, bias=False)
    assert rep["verification"]["disagreements"] == v["object_size_estimation"]["rows"] > 0
