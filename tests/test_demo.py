"""``spatial-r1 demo`` at reduced size: every stage runs for real, and a re-run reuses finished stages."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from spatial_r1_eval.commands.cli import main
from spatial_r1_eval.files import read_jsonl
from spatial_r1_eval.questions import REL_DIRECTION_SUBTYPES, TASKS, task_of

pytestmark = pytest.mark.slow

LIMIT = 6


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    # run from inside the output folder (`--out .`): ./sr then exists, which lmms-eval must not take for task "sr"
    args = ["demo", "--out", ".", "--scenes", "2", "--frames", "300", "--limit", str(LIMIT), "--train-steps", "1"]
    buf, cwd = io.StringIO(), os.getcwd()
    os.chdir(out)  # (contextlib.chdir needs Python 3.11; we support 3.10)
    try:
        with contextlib.redirect_stdout(buf):
            assert main(args) == 0
    finally:
        os.chdir(cwd)
    return out, buf.getvalue()


def test_demo_generates_sr_with_videos(demo: tuple[Path, str]) -> None:
    out, _ = demo
    records = read_jsonl(out / "sr" / "sr.jsonl")
    assert records, "the demo generated no SR question"
    for record in records:
        assert (out / "sr" / "videos" / record["video"]).is_file(), record["video"]
    assert len(read_jsonl(out / "sr" / "sr_train.jsonl")) == len(records)
    # all eight tasks (route planning included), direction at all three levels
    assert {task_of(r["question_type"]) for r in records} == set(TASKS)
    assert {r["question_type"] for r in records} >= set(REL_DIRECTION_SUBTYPES)


def test_demo_evaluates_three_models_through_lmms_eval(demo: tuple[Path, str]) -> None:
    out, printed = demo
    n_questions = len(read_jsonl(out / "sr" / "sr.jsonl"))
    for name in ("chance_random", "chance_frequency", "tiny_qwen2_5_vl"):
        results_files = list((out / "runs" / name).rglob("*_results.json"))
        assert len(results_files) == 1, (name, results_files)
        results = json.loads(results_files[0].read_text())
        assert "sr" in results["results"]
        samples = list(results_files[0].parent.glob("*_samples_sr.jsonl"))
        assert len(samples) == 1
        rows = [line for line in samples[0].read_text().splitlines() if line.strip()]
        assert len(rows) == min(LIMIT, n_questions)
    # the table printed next to the paper's reference rows
    assert "| Spatial-R1 " in printed and "chance_frequency (sr)" in printed


def test_demo_writes_html_and_png(demo: tuple[Path, str]) -> None:
    out, _ = demo
    html = (out / "leaderboard.html").read_text()
    assert "<table" in html and "chance_frequency (sr)" in html and "Spatial-R1" in html
    with Image.open(out / "leaderboard.png") as image:
        assert image.format == "PNG" and image.size[0] >= 400 and image.size[1] >= 200


def test_demo_trains_and_prints_per_task_rewards(demo: tuple[Path, str]) -> None:
    out, printed = demo
    summary = json.loads((out / "train" / "train_summary.json").read_text())
    assert summary["global_step"] == 1
    assert summary["per_task_rewards"], summary
    assert "accuracy" in printed.split("GRPO smoke", 1)[1]


def test_demo_rerun_reuses_finished_stages(demo: tuple[Path, str]) -> None:
    out, _ = demo
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*_results.json")}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert (
            main(
                [
                    "demo",
                    "--out",
                    str(out),
                    "--scenes",
                    "2",
                    "--frames",
                    "300",
                    "--limit",
                    str(LIMIT),
                    "--train-steps",
                    "1",
                ]
            )
            == 0
        )
    printed = buf.getvalue()
    assert printed.count("reusing") >= 5, printed
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*_results.json")} == before
