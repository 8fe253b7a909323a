"""The parts of ``benchmarks/gpu_check.sh`` (one GPU): each prints one JSON line with its figures.

``python benchmarks/gpu_check.py PART --out DIR`` with PART one of

* ``prereqs``: which modules import and whether CUDA is there (also on CPU: what the other parts need);
* ``vllm-rollouts``: ``spatial-r1 train`` on the smoke recipe (tiny Qwen2.5-VL, real mp4s) with colocated vLLM
  video rollouts for 3 GRPO steps: s/step and TRL's per-token log-prob difference between vLLM's sampling and the
  trainer's video forward (small only if vLLM saw the trainer's prompt and video);
* ``grpo-7b``: one GRPO step of a random-weight Qwen2.5-VL-7B at the paper's budget (``benchmarks/rewards.py``'s
  ``gpu_part``), keeping the checkpoint in ``DIR/qwen7b-random`` for the next part;
* ``vsibench-vllm``: the lmms-eval CLI, task ``vsibench_direct``, ``--model vllm`` on that random 7B over the videos
  of the demo's synthetic scenes (SR questions in VSI-Bench's table layout, ``$VSIBENCH_DIR``): questions/s.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Modules each part imports (top-level names).
NEEDS = {
    "vllm-rollouts": ["torch", "transformers", "trl", "vllm", "datasets", "qwen_vl_utils", "decord", "av",
                      "spatial_r1_eval"],
    "grpo-7b": ["torch", "transformers", "trl", "datasets", "qwen_vl_utils", "decord", "av", "spatial_r1_eval"],
    "vsibench-vllm": ["torch", "vllm", "lmms_eval", "spatial_r1_eval"],
}  # fmt: skip


def prereqs() -> dict:
    """Import every needed module; report versions, what is missing, and the GPU."""
    found, missing = {}, []
    for name in sorted({m for mods in NEEDS.values() for m in mods}):
        try:
            module = importlib.import_module(name)
            found[name] = str(getattr(module, "__version__", "?"))
        except Exception as e:  # noqa: BLE001 - any import failure means "not usable here"
            missing.append(f"{name} ({type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''})")
    gpu = None
    if "torch" in found:
        import torch

        if torch.cuda.is_available():
            free, total = torch.cuda.mem_get_info()
            gpu = {"name": torch.cuda.get_device_name(), "total_gib": round(total / 2**30, 1),
                   "free_gib": round(free / 2**30, 1)}  # fmt: skip
    runnable = {p: all(m in found for m in mods) and gpu is not None for p, mods in NEEDS.items()}
    return {"python": sys.version.split()[0], "found": found, "missing": missing, "gpu": gpu, "runnable": runnable}


def vllm_rollouts(out: Path, steps: int = 3) -> dict:
    from spatial_r1_eval.commands.cli import main
    from spatial_r1_eval.trainer.data import write_sample_sr_train

    data = write_sample_sr_train(out / "tiny_data", n_videos=2)
    run = out / "tiny_vllm_run"
    argv = ["train", "--config", str(REPO / "trainer" / "recipes" / "smoke.yaml"), "--",
            "--dataset_path", str(data), "--output_dir", str(run), "--use_cpu", "false", "--rollouts", "vllm",
            "--vllm_mode", "colocate", "--vllm_gpu_memory_utilization", "0.2", "--vllm_max_model_length", "2048",
            "--max_steps", str(steps), "--save_strategy", "no"]  # fmt: skip
    start = time.perf_counter()
    code = main(argv)
    wall = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"spatial-r1 train exited {code}")
    history = json.loads((run / "trainer_state.json").read_text())["log_history"]
    key = "sampling/sampling_logp_difference/"
    diffs = [e[key + "mean"] for e in history if key + "mean" in e]
    maxes = [e[key + "max"] for e in history if key + "max" in e]
    return {
        "steps": steps,
        "wall_s": round(wall, 1),
        "s_per_step": [e["step_time"] for e in history if "step_time" in e],
        "sampling_logp_difference_mean": diffs,
        "sampling_logp_difference_max": maxes,
        "ok": bool(diffs) and all(d < 0.05 for d in diffs),
        "curves": str(run / "train_curves.png"),
    }


def grpo_7b(out: Path) -> dict:
    from rewards import gpu_part

    model_dir = out / "qwen7b-random"
    result = gpu_part(keep_model=model_dir)
    return {**result, "model_dir": str(model_dir)}


def vsibench_vllm(out: Path, max_new_tokens: int = 16) -> dict:
    """Time the lmms-eval CLI on ``vsibench_direct`` with ``--model vllm`` over the demo scenes' videos."""
    from spatial_r1_eval.files import read_jsonl, write_jsonl
    from spatial_r1_eval.tasks import tasks_dir
    from spatial_r1_eval.trainer.data import prepare_synthetic_sr

    model_dir = out / "qwen7b-random"
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"{model_dir}: no random 7B checkpoint (run the grpo-7b part first)")
    train = prepare_synthetic_sr(out / "demo_sr", n_scenes=3, seed=0)  # the demo's generator, synthetic scenes
    sr_dir = train.parent
    vsibench = out / "vsibench_demo"
    (vsibench / "scannet").mkdir(parents=True, exist_ok=True)
    rows = read_jsonl(sr_dir / "sr.jsonl")
    for video in (sr_dir / "videos" / "scannet").glob("*.mp4"):
        target = vsibench / "scannet" / video.name
        if not target.exists():
            shutil.copyfile(video, target)
    write_jsonl(vsibench / "test.jsonl", rows)
    results = out / "lmms_vsibench_vllm"
    model_args = (f"model={model_dir},gpu_memory_utilization=0.6,max_new_tokens={max_new_tokens},nframes=16,"
                  f"max_pixels={128 * 28 * 28},max_model_len=8192")  # fmt: skip
    cmd = [sys.executable, "-m", "lmms_eval", "--model", "vllm", "--model_args", model_args,
           "--tasks", "vsibench_direct", "--include_path", str(tasks_dir()), "--batch_size", "64",
           "--output_path", str(results), "--log_samples"]  # fmt: skip
    workdir = out / "lmms_cwd"  # a folder without sub-folders named like a task
    workdir.mkdir(exist_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env={**os.environ, "VSIBENCH_DIR": str(vsibench)}, text=True,
                          capture_output=True, timeout=420)  # fmt: skip
    wall = time.perf_counter() - start
    (out / "lmms_vsibench_vllm.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"lmms-eval exited {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
    samples = list(results.rglob("*samples*.jsonl"))
    n = sum(len(read_jsonl(s)) for s in samples)
    return {"questions": len(rows), "scored": n, "wall_s": round(wall, 1),
            "questions_per_s_incl_engine_start": round(len(rows) / wall, 2), "max_new_tokens": max_new_tokens,
            "cmd": " ".join(cmd)}  # fmt: skip


PARTS = {"prereqs": lambda out: prereqs(), "vllm-rollouts": vllm_rollouts, "grpo-7b": grpo_7b,
         "vsibench-vllm": vsibench_vllm}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=sorted(PARTS))
    parser.add_argument("--out", required=True, help="working folder (the 7B checkpoint lands here: ~16 GB)")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        result = {"part": args.part, "status": "ok", **PARTS[args.part](out)}
        code = 0
    except Exception as e:  # noqa: BLE001 - the JSON line records any failure of the part
        result = {"part": args.part, "status": "failed", "error": f"{type(e).__name__}: {e}"[:500]}
        code = 1
    result["part_wall_s"] = round(time.perf_counter() - start, 1)
    print("GPU_CHECK_RESULT " + json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
