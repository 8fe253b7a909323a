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
from spatial_r1_eval.files import read_jsonl
from spatial_r1_eval.metrics import format_reward
from spatial_r1_eval.scoring import score
from spatial_r1_eval.tasks import tasks_dir
from spatial_r1_eval.tasks.hooks import METRIC_NAMES, load_sr_docs, load_vsibench_docs
from spatial_r1_eval.tiny_model import CPU_MODEL_ARGS, LMMS_EVAL_FLAGS, LMMS_EVAL_MODEL, build_tiny_model

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

#: backend -> (--arch, --model_args after pretrained=...): the package's CPU settings (the README's backend table)
BACKENDS: dict[str, tuple[str, str]] = {
    backend: (arch, CPU_MODEL_ARGS[arch]) for arch, backend in LMMS_EVAL_MODEL.items()
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
    cmd += LMMS_EVAL_FLAGS.get(BACKENDS[backend][0], ())  # llava_hf: --force_simple (its chat class fails on video)
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


# ---------------------------------------------------------------------------------------------------------------
# an API-served model: lmms-eval's OpenAI-compatible backend against `transformers serve` on 127.0.0.1
# ---------------------------------------------------------------------------------------------------------------

#: The completion the served model is scripted to give (generation_config.sequence_bias on its own prefixes).
SCRIPTED = "<think>Let me think. The table is near the wall.</think><answer>3</answer>"
#: A response template without a reasoning field: the whole completion stays in ``content``.
CONTENT_ONLY_TEMPLATE = {
    "defaults": {"role": "assistant"},
    "start_anchor": "<|im_start|>assistant\n",
    "fields": {"content": {"close_pattern": r"\s*(?:<\|im_end\|>|<\|endoftext\|>)", "content": "text"}},
}
API_FRAMES = 4


@pytest.fixture(scope="module")
def served_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two tiny Qwen2.5-VL checkpoints scripted to answer :data:`SCRIPTED`: ``qwen_default`` (the server's own
    Qwen response parser, which moves ``<think>`` into ``reasoning_content``) and ``content_only``."""
    from transformers import AutoTokenizer, GenerationConfig

    root = tmp_path_factory.mktemp("served")
    default = build_tiny_model("qwen2_5_vl", root / "qwen_default", seed=0)
    tokenizer = AutoTokenizer.from_pretrained(default)
    ids = tokenizer(SCRIPTED)["input_ids"] + [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    config = GenerationConfig.from_pretrained(default)
    config.sequence_bias = [[ids[:k], 100.0 * k] for k in range(1, len(ids) + 1)]  # the longest matching prefix wins
    config.save_pretrained(default)
    content_only = root / "content_only"
    shutil.copytree(default, content_only)
    tokenizer_config = json.loads((content_only / "tokenizer_config.json").read_text())
    tokenizer_config["response_template"] = CONTENT_ONLY_TEMPLATE
    (content_only / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    return {"qwen_default": default, "content_only": content_only}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``transformers serve`` on a free 127.0.0.1 port (models loaded by path on request), stopped afterwards."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tmp_path_factory.mktemp("server")
    probe = root / "probe.jsonl"
    cmd = [sys.executable, str(PROBE), str(probe), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = (root / "server.log").open("w")
    proc = subprocess.Popen([*cmd, "--device", "cpu"], env=_env(), cwd=root, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 600
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError((root / "server.log").read_text()[-3000:]) from None
                time.sleep(2)
        yield url, probe
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _api_run(url: str, model: Path, sr: Path, out: Path) -> tuple[dict, list[dict]]:
    args = f"model={model},base_url={url},api_key=none,max_frames_num={API_FRAMES},num_concurrent=1,timeout=600"
    cmd = [sys.executable, "-m", "lmms_eval", "--include_path", str(tasks_dir()), "--tasks", "sr_r1"]
    cmd += ["--model", "openai", "--model_args", args, "--limit", str(LIMIT), "--gen_kwargs", "max_new_tokens=40"]
    cmd += ["--output_path", str(out / "out"), "--log_samples"]
    env = _env(SPATIAL_R1_SR_DIR=str(sr))
    proc = subprocess.run(cmd, env=env, cwd=out, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted((out / "out").rglob("*_results.json"))
    assert len(files) == 1, (files, proc.stdout[-3000:])
    rows = [json.loads(line) for line in next(files[0].parent.glob("*_samples_sr_r1.jsonl")).open()]
    return json.loads(files[0].read_text()), rows


def test_openai_backend_sends_frames_as_images_and_think_completions_are_scored(
    server: tuple[str, Path], served_checkpoints: dict[str, Path], synthetic_sr: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    url, probe = server
    model = served_checkpoints["content_only"]
    results, rows = _api_run(url, model, synthetic_sr, tmp_path)
    received = [json.loads(line) for line in probe.open()]
    assert len(received) == LIMIT
    tokenizer = AutoTokenizer.from_pretrained(model)
    docs = {d["id"]: d for d in load_sr_docs(synthetic_sr)}
    # frames reach the server as images: max_frames_num separate images (temporal grid 1), 4:3 like the mp4,
    # within the served processor's pixel budget (16 x 28 x 28)
    _, height, width = _video_geometry(docs[rows[0]["vsibench_overall"]["id"]]["video_path"])
    for got in received:
        grids = got["grids"]["image_grid_thw"]
        assert len(grids) == API_FRAMES and "pixel_values_videos" not in got["shapes"]
        for t, h, w in grids:
            assert t == 1 and h * w * 14 * 14 <= 16 * 28 * 28 and abs(h / w - height / width) < 0.1, grids
        text = tokenizer.decode(got["input_ids"])
        assert text.count("<|vision_start|><|image_pad|>") == API_FRAMES
    prompts = [tokenizer.decode(got["input_ids"]) for got in received]
    per_q = []
    for row in rows:
        doc = docs[row["vsibench_overall"]["id"]]
        assert any(row["input"] in p for p in prompts) and R1_MARK in row["input"]
        response = row["filtered_resps"][0] if isinstance(row["filtered_resps"], list) else row["filtered_resps"]
        assert response == SCRIPTED  # the <think> block reached lmms-eval
        assert row["vsibench_overall"]["score"] == score(response, doc)
        per_q.append((doc["question_type"], score(response, doc)))
    metrics = results["results"]["sr_r1"]
    assert metrics["format_reward,none"] == 1.0
    expected = aggregate([qt for qt, _ in per_q], [s for _, s in per_q])
    assert metrics["vsibench_overall,none"] == pytest.approx(expected["overall"], abs=1e-6)


def test_server_side_reasoning_parser_hides_think_from_the_format_metric(
    server: tuple[str, Path], served_checkpoints: dict[str, Path], synthetic_sr: Path, tmp_path: Path
) -> None:
    """The same scripted model behind the server's default Qwen parser: ``<think>`` goes to ``reasoning_content``,
    lmms-eval's openai backend reads ``content`` only, so ``format_reward`` is 0 although the answer is scored."""
    url, _ = server
    results, rows = _api_run(url, served_checkpoints["qwen_default"], synthetic_sr, tmp_path)
    docs = {d["id"]: d for d in load_sr_docs(synthetic_sr)}
    for row in rows:
        response = row["filtered_resps"][0] if isinstance(row["filtered_resps"], list) else row["filtered_resps"]
        assert response == "<answer>3</answer>"
        assert row["vsibench_overall"]["score"] == score(SCRIPTED, docs[row["vsibench_overall"]["id"]])
    assert results["results"]["sr_r1"]["format_reward,none"] == 0.0
