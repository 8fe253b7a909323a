"""End to end through the real ``lmms-eval`` CLI: our tasks, our chance models, the tiny Qwen2.5-VL on CPU.

Two SR folders: ``sr_dir`` is written here by hand (records in the SR record schema of docs/records.md + real H.264
mp4s written with PyAV) so that the chance models' exact answers are known; ``synthetic_sr`` (conftest) is made by the
real pipeline (synthetic ScanNet-layout scenes → ``generate``), as a user's data would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from spatial_r1_eval.commands.stack_check import write_records
from spatial_r1_eval.leaderboard.reference import load_reference
from spatial_r1_eval.tasks import tasks_dir
from spatial_r1_eval.tasks.baselines import FREQUENCY_ROW_TOLERANCE
from spatial_r1_eval.tasks.hooks import METRIC_NAMES
from spatial_r1_eval.tiny_model import CPU_MODEL_ARGS, build_tiny_qwen2_5_vl

pytestmark = pytest.mark.slow

SR_RECORDS = [
    ("object_counting", "How many chair(s) are in this room?", [], "4"),
    ("object_abs_distance", "What is the direct distance between the table and the sofa (in meters)?", [], "1.8"),
    ("object_size_estimation", "What is the length of the longest dimension of the bed, in centimeters?", [], "203"),
    ("room_size_estimation", "What is the size of this room (in square meters)?", [], "21.4"),
    (
        "object_rel_direction_easy",
        "Standing by the bed facing the desk, is the door to my left or right?",
        ["A. left", "B. right"],
        "A",
    ),
    (
        "object_rel_direction_easy",
        "Standing by the sink facing the door, is the bed to my left or right?",
        ["A. right", "B. left"],
        "B",
    ),
    (
        "object_rel_distance",
        "Which of these objects (chair, lamp, door, sink) is the closest to the bed?",
        ["A. chair", "B. lamp", "C. door", "D. sink"],
        "C",
    ),
    (
        "obj_appearance_order",
        "What will be the first-time appearance order of: bed, desk, door, sink?",
        [
            "A. bed, desk, door, sink",
            "B. desk, bed, door, sink",
            "C. sink, door, desk, bed",
            "D. door, sink, bed, desk",
        ],
        "B",
    ),
]
SCENES = ("scene9000_00", "scene9001_00")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPATIAL_R1_", "VSIBENCH"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="2", TOKENIZERS_PARALLELISM="false")
    env.update(extra)
    return env


def _write_video(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(24):
            frame = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


@pytest.fixture(scope="module")
def sr_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sr")
    for i, scene in enumerate(SCENES):
        _write_video(root / "videos" / "scannet" / f"{scene}.mp4", i)
    write_records(root, SR_RECORDS)  # the stack check's SR folder writer, with these eight questions
    return root


def _lmms_eval(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "lmms_eval", "--include_path", str(tasks_dir()), *args]
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def _results(out: Path) -> tuple[dict, dict[str, list[dict]]]:
    files = sorted(out.rglob("*_results.json"))
    assert len(files) == 1, files
    results = json.loads(files[0].read_text())
    samples = {}
    for path in files[0].parent.glob("*_samples_*.jsonl"):
        task = path.stem.split("_samples_", 1)[1]
        samples[task] = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return results, samples


def test_task_list_has_all_four_tasks_and_blind_variants(tmp_path: Path) -> None:
    proc = _lmms_eval(["--tasks", "list"], _env(), tmp_path)
    listed = {line.strip()[2:] for line in proc.stdout.splitlines() if line.strip().startswith("- ")}
    expected = {"sr", "sr_r1", "vsibench_direct", "vsibench_r1"}
    assert expected | {f"{t}_blind" for t in expected} <= listed, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_chance_frequency_on_sr(sr_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _lmms_eval(
        ["--tasks", "sr,sr_blind", "--model", "chance_frequency", "--output_path", str(out), "--log_samples"],
        _env(SPATIAL_R1_SR_DIR=str(sr_dir)),
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results, samples = _results(out)
    for task in ("sr", "sr_blind"):
        metrics = results["results"][task]
        rows = samples[task]
        assert len(rows) == len(SR_RECORDS)
        per_q = [row["vsibench_overall"] for row in rows]
        assert sorted(r["id"] for r in per_q) == sorted(
            f"{SCENES[i % 2]}/{qt}/{i}" for i, (qt, *_) in enumerate(SR_RECORDS)
        )
        # the frequency answers, fitted on these very questions: direction 'left' is offered in both easy
        # questions (closed set) and is right in both; single-question types are answered with their own truth
        assert all(r["score"] == 1.0 for r in per_q), per_q
        assert metrics["vsibench_overall,none"] == 1.0
        assert metrics["route_planning_accuracy,none"] is None  # absent type: N/A, not 0
        for metric in METRIC_NAMES.values():
            assert f"{metric},none" in metrics


def test_tiny_qwen2_5_vl_on_sr_cpu(sr_dir: Path, tmp_path: Path) -> None:
    model = build_tiny_qwen2_5_vl(tmp_path / "tiny", seed=0)
    out = tmp_path / "out"
    model_args = f"pretrained={model},{CPU_MODEL_ARGS['qwen2_5_vl']}"
    proc = _lmms_eval(
        [
            "--tasks",
            "sr,sr_r1",
            "--model",
            "qwen2_5_vl",
            "--model_args",
            model_args,
            "--limit",
            "4",
            "--gen_kwargs",
            "max_new_tokens=12",
            "--output_path",
            str(out),
            "--log_samples",
        ],
        _env(SPATIAL_R1_SR_DIR=str(sr_dir)),
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results, samples = _results(out)
    assert results["model_name"] == str(model) and results["config"]["model"] == "qwen2_5_vl"
    for task in ("sr", "sr_r1"):
        rows = samples[task]
        assert len(rows) == 4
        for row in rows:
            per_q = row["vsibench_overall"]
            assert isinstance(per_q["prediction"], str) and 0.0 <= per_q["score"] <= 1.0
            assert per_q["prediction"] == row["filtered_resps"] or per_q["prediction"] in row["filtered_resps"]
        overall = results["results"][task]["vsibench_overall,none"]
        assert overall is not None and 0.0 <= overall <= 1.0
    assert "format_reward,none" in results["results"]["sr_r1"]
    assert results["configs"]["sr_r1"]["generation_kwargs"]["max_new_tokens"] == 12  # overridden for speed


def test_missing_video_is_a_clear_error_naming_the_path(sr_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "sr_data"  # not "sr": lmms-eval reads --tasks sr as a folder when ./sr exists
    broken.mkdir()
    (broken / "sr.jsonl").write_text((sr_dir / "sr.jsonl").read_text())
    _write_video(broken / "videos" / "scannet" / "scene9000_00.mp4", 0)  # scene9001_00.mp4 is missing
    out = tmp_path / "out"
    proc = _lmms_eval(
        ["--tasks", "sr", "--model", "chance_frequency", "--output_path", str(out)],
        _env(SPATIAL_R1_SR_DIR=str(broken)),
        tmp_path,
    )
    missing = broken / "videos" / "scannet" / "scene9001_00.mp4"
    assert f"video not found: {missing.resolve()}" in proc.stdout + proc.stderr
    assert not list(out.rglob("*_results.json"))


def test_spatial_r1_eval_reproduces_chance_frequency_row(vsibench_dir: Path, tmp_path: Path) -> None:
    """``spatial-r1 eval`` on the real VSI-Bench questions (blind): the published Chance Level (Frequency) row."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spatial_r1_eval",
            "eval",
            "--tasks",
            "vsibench_direct_blind",
            "--model",
            "chance_frequency",
            "--vsibench-dir",
            str(vsibench_dir),
            "--output",
            str(out),
        ],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results, samples = _results(out)
    metrics = results["results"]["vsibench_direct_blind"]
    assert len(samples["vsibench_direct_blind"]) == 5130
    got = {m: 100 * metrics[f"{m},none"] for m in METRIC_NAMES.values()}
    published = dict(load_reference("spatial-r1-table1"))["Chance Level (Frequency)"]
    for task, tolerance in FREQUENCY_ROW_TOLERANCE.items():
        metric = METRIC_NAMES[task]
        assert abs(got[metric] - published[task]) <= tolerance, (metric, got[metric], published[task])
    table_row = next(line for line in proc.stdout.splitlines() if line.startswith("| chance_frequency"))
    assert "47.9" in table_row and "25.1" in table_row and "33.1" in table_row


def test_sr_task_on_pipeline_generated_data(synthetic_sr: Path, tmp_path: Path) -> None:
    """lmms-eval on SR data made by synth → generate: every question is asked once, and the logged per-question
    scores and the task metrics agree with an independent re-scoring through the core."""
    from spatial_r1_eval.aggregation import aggregate
    from spatial_r1_eval.files import read_jsonl
    from spatial_r1_eval.scoring import score

    records = {r["id"]: r for r in read_jsonl(synthetic_sr / "sr.jsonl")}
    out = tmp_path / "out"
    proc = _lmms_eval(
        ["--tasks", "sr", "--model", "chance_random", "--output_path", str(out), "--log_samples"],
        _env(SPATIAL_R1_SR_DIR=str(synthetic_sr)),
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results, samples = _results(out)
    per_q = [row["vsibench_overall"] for row in samples["sr"]]
    assert sorted(r["id"] for r in per_q) == sorted(records)
    for r in per_q:
        assert r["score"] == score(r["prediction"], records[r["id"]])
    expected = aggregate([records[r["id"]]["question_type"] for r in per_q], [r["score"] for r in per_q])
    metrics = results["results"]["sr"]
    for task, metric in METRIC_NAMES.items():
        if task in expected:
            assert metrics[f"{metric},none"] == pytest.approx(expected[task], abs=1e-6), task
        else:
            assert metrics[f"{metric},none"] is None, task
