"""Four lmms-eval backends end to end on CPU: tiny random checkpoints of each architecture, the real CLI, our tasks.

For each backend one ``lmms-eval --tasks sr,sr_r1,vsibench_direct --limit 2`` run (``tests/lmms_probe.py`` puts a
forward pre-hook on the model it loads) checks that

* the model received the video frames the backend settings specify (count and size, from the prefill tensors),
  against an independent reference (qwen-vl-utils' own ``smart_resize``; the processor sizes; PyAV's frame count);
* the prompt the model received contains the prompt the task built (lmms-eval's logged ``input``), which holds the
  question and VSI-Bench's post-prompt (direct tasks) or the reasoning instruction (``sr_r1``);
* the scores in the results JSON equal our re-scoring of the logged raw responses through the core.

SR data: the real pipeline (``synthetic_sr``). VSI-Bench: real questions of ``../shared/data/vsibench/test.jsonl``
(one ScanNet scene), with a pipeline-rendered mp4 standing in for its video (VSI-Bench videos are not in the data).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import pytest

from spatial_r1_eval.aggregation import aggregate
from spatial_r1_eval.eval_cli import tasks_dir
from spatial_r1_eval.files import read_jsonl
from spatial_r1_eval.lmms_task import METRIC_NAMES, load_sr_docs, load_vsibench_docs
from spatial_r1_eval.metrics import format_reward
from spatial_r1_eval.scoring import score
from spatial_r1_eval.tiny_model import LMMS_EVAL_MODEL, build_tiny_model

pytestmark = pytest.mark.slow

PROBE = Path(__file__).with_name("lmms_probe.py")
LIMIT = 2
TASKS = ("sr", "sr_r1", "vsibench_direct")
#: VSI-Bench's post-prompts (thinking-in-space ``vsibench/utils.py``) and the Spatial-R1 reasoning instruction.
MCA_POST = "Answer with the option's letter from the given choices directly."
NA_POST = "Please answer the question using a single word or phrase."
R1_MARK = "between the <think> </think> tags"
#: Frames of each video: decoded by the task for internvl_hf (task YAMLs), by decord for llava_hf (max_frames_num).
TASK_FRAMES = 16

#: backend -> (--arch, --model_args after pretrained=...)
BACKENDS: dict[str, tuple[str, str]] = {
    "qwen2_5_vl": ("qwen2_5_vl", "device=cpu,device_map=cpu,max_pixels=12544,min_pixels=3136,max_num_frames=8"),
    "qwen3_vl": ("qwen3_vl", "device=cpu,device_map=cpu,max_pixels=16384,min_pixels=4096,max_num_frames=8"),
    "llava_hf": ("llava_onevision", f"device=cpu,device_map=cpu,dtype=float32,max_frames_num={TASK_FRAMES}"),
    "internvl_hf": ("internvl", f"device=cpu,device_map=cpu,num_frames={TASK_FRAMES}"),
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPATIAL_R1_", "VSIBENCH"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="2", TOKENIZERS_PARALLELISM="false")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def vsibench_local(vsibench_dir: Path, synthetic_sr: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local VSI-Bench folder: real questions of one ScanNet scene (a numerical one first, then a multiple-choice
    one), its video a pipeline-rendered mp4."""
    rows = [r for r in read_jsonl(vsibench_dir / "test.jsonl") if r["dataset"] == "scannet"]
    scene = rows[0]["scene_name"]
    numerical = next(r for r in rows if r["scene_name"] == scene and not r["options"])
    choice = next(r for r in rows if r["scene_name"] == scene and r["options"])
    root = tmp_path_factory.mktemp("vsibench_local")
    (root / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (numerical, choice)))
    (root / "scannet").mkdir()
    shutil.copy(next((synthetic_sr / "videos").rglob("*.mp4")), root / "scannet" / f"{scene}.mp4")
    return root


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return {arch: build_tiny_model(arch, root / arch, seed=0) for arch, _ in BACKENDS.values()}


def _video_geometry(path: str) -> tuple[int, int, int]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        return sum(1 for _ in container.decode(stream)), stream.height, stream.width


def _expected_frames(backend: str, video: str) -> dict[str, Any]:
    """What the model must receive for one video: tensor shapes / grids from the backend's documented settings."""
    from qwen_vl_utils.vision_process import smart_resize

    n, height, width = _video_geometry(video)
    assert n >= TASK_FRAMES
    if backend in ("qwen2_5_vl", "qwen3_vl"):
        patch, min_pixels, max_pixels = (14, 3136, 12544) if backend == "qwen2_5_vl" else (16, 4096, 16384)
        h, w = smart_resize(height, width, factor=2 * patch, min_pixels=min_pixels, max_pixels=max_pixels)
        frames = 8  # max_num_frames (nframes, a multiple of 2, fewer than the clip's frames)
        patches = frames // 2 * (h // patch) * (w // patch)  # one row per 2-frame temporal patch
        return {"grids": {"video_grid_thw": [[frames // 2, h // patch, w // patch]]}, "patches": patches}
    if backend == "llava_hf":
        return {"shapes": {"pixel_values_videos": [1, TASK_FRAMES, 3, 56, 56]}}
    return {"shapes": {"pixel_values": [TASK_FRAMES, 3, 56, 56]}}


def _run(backend: str, checkpoint: Path, sr: Path, vsi: Path, tmp_path: Path) -> tuple[dict, dict, list[dict]]:
    out, probe = tmp_path / "out", tmp_path / "probe.jsonl"
    cmd = [sys.executable, str(PROBE), str(probe), "--include_path", str(tasks_dir()), "--tasks", ",".join(TASKS)]
    cmd += ["--model", backend, "--model_args", f"pretrained={checkpoint},{BACKENDS[backend][1]}"]
    cmd += ["--limit", str(LIMIT), "--gen_kwargs", "max_new_tokens=12", "--output_path", str(out), "--log_samples"]
    if backend == "llava_hf":
        cmd.append("--force_simple")  # its chat class passes images=[] with a video: IndexError in transformers
    env = _env(SPATIAL_R1_SR_DIR=str(sr), VSIBENCH_DIR=str(vsi))
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted(out.rglob("*_results.json"))
    assert len(files) == 1, files
    samples = {
        task: [json.loads(line) for line in next(files[0].parent.glob(f"*_samples_{task}.jsonl")).open()]
        for task in TASKS
    }
    return json.loads(files[0].read_text()), samples, [json.loads(line) for line in probe.open()]


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_backend_end_to_end(
    backend: str, checkpoints: dict[str, Path], synthetic_sr: Path, vsibench_local: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    arch = BACKENDS[backend][0]
    assert LMMS_EVAL_MODEL[arch] == backend
    results, samples, prefills = _run(backend, checkpoints[arch], synthetic_sr, vsibench_local, tmp_path)
    assert results["config"]["model"] == backend
    tokenizer = AutoTokenizer.from_pretrained(checkpoints[arch])
    prompts = [tokenizer.decode(p["input_ids"], skip_special_tokens=False) for p in prefills]
    assert len(prefills) == LIMIT * len(TASKS), [p["shapes"] for p in prefills]
    docs = {"sr": load_sr_docs(synthetic_sr), "vsibench_direct": load_vsibench_docs(vsibench_local)}
    docs["sr_r1"] = docs["sr"]
    matched: set[int] = set()
    for task in TASKS:
        rows = samples[task]
        assert len(rows) == LIMIT
        by_id = {d["id"]: d for d in docs[task]}
        per_q = []
        for row in rows:
            doc = by_id[row["vsibench_overall"]["id"]]
            # the prompt the task built, and that prompt inside what the model received
            task_prompt = row["input"]
            assert doc["question"] in task_prompt
            if task == "sr_r1":
                assert R1_MARK in task_prompt
            else:
                assert task_prompt.endswith(MCA_POST if doc["options"] else NA_POST), task_prompt
            hits = [i for i, text in enumerate(prompts) if task_prompt in text and i not in matched]
            assert hits, (task_prompt, prompts)
            matched.add(hits[0])
            # the video frames the model received
            expected = _expected_frames(backend, doc["video_path"])
            got = prefills[hits[0]]
            for name, shape in expected.get("shapes", {}).items():
                assert got["shapes"][name] == shape, (name, got["shapes"])
            for name, grid in expected.get("grids", {}).items():
                assert got["grids"][name] == grid, (name, got["grids"])
                assert got["shapes"]["pixel_values_videos"][0] == expected["patches"]
            # the logged score is our core's score of the raw response
            response = row["filtered_resps"][0] if isinstance(row["filtered_resps"], list) else row["filtered_resps"]
            assert row["vsibench_overall"]["prediction"] == response
            assert row["vsibench_overall"]["score"] == score(response, doc)
            per_q.append((doc["question_type"], score(response, doc), response))
        metrics = results["results"][task]
        expected_agg = aggregate([qt for qt, _, _ in per_q], [s for _, s, _ in per_q])
        for qt, metric in METRIC_NAMES.items():
            want = expected_agg.get(qt)
            got_metric = metrics[f"{metric},none"]
            assert (got_metric is None) if want is None else got_metric == pytest.approx(want, abs=1e-6), qt
        if task == "sr_r1":
            want_format = sum(format_reward(r) for _, _, r in per_q) / len(per_q)
            assert metrics["format_reward,none"] == pytest.approx(want_format, abs=1e-6)
