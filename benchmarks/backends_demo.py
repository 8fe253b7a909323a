"""Every lmms-eval backend on the demo SR data: tiny random checkpoints, the real CLI, the protocol leaderboard.

Run: ``python benchmarks/backends_demo.py [--out backends_out] [--sr demo_out/sr] [--per-type 1]``.

1. The demo's SR data: ``--sr`` (e.g. ``demo_out/sr`` of ``make demo``), or, when absent, the demo's own first two
   stages (three synthetic ScanNet-layout scenes, then the SR dataset with videos) into ``OUT/demo``.
2. The four tiny checkpoints: ``spatial-r1 tiny-model --arch A --out OUT/tiny/A`` (seed 0; rows are named ``tiny__A``).
3. A subset with the first ``--per-type`` questions of every question type (so that every table column is asked;
   ``--limit`` would take the first questions of the file, all of one type), in ``OUT/sr_subset`` (videos copied).
4. One ``spatial-r1 eval --tasks sr,sr_r1`` run per backend (``qwen2_5_vl``, ``qwen3_vl``,
   ``llava_hf --force_simple``, ``internvl_hf``): the lmms-eval CLI with ``--log_samples``, the CPU ``--model_args``
   of the README's backend table (:data:`spatial_r1_eval.tiny_model.CPU_MODEL_ARGS`), the installed versions
   recorded beside the results; timed (wall seconds, model loading included).
5. ``spatial-r1 leaderboard OUT/runs/* --protocol`` over the runs (printed), and the wall times.

The scores are those of random tiny models: they carry no meaning. The API-served backend (``openai`` against
``transformers serve``) runs in ``tests/test_eval_backends.py`` only (its server is a test fixture).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from spatial_r1_eval.tiny_model import CPU_MODEL_ARGS, LMMS_EVAL_FLAGS, LMMS_EVAL_MODEL

TASKS = "sr,sr_r1"


def _env(sr: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPATIAL_R1_", "VSIBENCH"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return {**env, "SPATIAL_R1_SR_DIR": str(sr)}


def _cli(*args: str) -> str:
    cmd = [sys.executable, "-m", "spatial_r1_eval", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"spatial-r1 {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def demo_sr(out: Path) -> Path:
    """The SR data of ``make demo`` (its scene and SR stages, same defaults), built into ``out`` when missing."""
    from spatial_r1_eval.commands.demo import stage_scenes, stage_sr

    return stage_sr(stage_scenes(out, 3, 0, 300), out, 0, 1)


def stratified_subset(sr: Path, out: Path, per_type: int) -> Path:
    """``out``: an SR folder with the first ``per_type`` questions of each question type of ``sr`` (file order)."""
    import shutil

    from spatial_r1_eval.files import read_jsonl, write_jsonl

    taken: dict[str, int] = {}
    rows = []
    for row in read_jsonl(sr / "sr.jsonl"):
        qt = row["question_type"]
        if taken.get(qt, 0) < per_type:
            taken[qt] = taken.get(qt, 0) + 1
            rows.append(row)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(sr / "videos", out / "videos")
    write_jsonl(out / "sr.jsonl", rows)
    return out


def run_backend(arch: str, checkpoint: Path, sr: Path, run_dir: Path, gen_kwargs: str) -> float:
    """One ``spatial-r1 eval`` run of the ``arch`` backend on :data:`TASKS`; returns its wall seconds."""
    backend = LMMS_EVAL_MODEL[arch]
    cmd = [sys.executable, "-m", "spatial_r1_eval", "eval", "--tasks", TASKS, "--model", backend]
    cmd += ["--model-args", f"pretrained={checkpoint},{CPU_MODEL_ARGS[arch]}", "--sr-dir", str(sr)]
    cmd += ["--output", str(run_dir)] + (["--gen-kwargs", gen_kwargs] if gen_kwargs else [])
    cmd += ["--", *LMMS_EVAL_FLAGS.get(arch, ())]
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"$ spatial-r1 {' '.join(cmd[3:])}", flush=True)  # noqa: T201 (script output)
    t0 = time.perf_counter()
    # run inside the run folder: lmms-eval reads `--tasks sr` as a folder when ./sr exists
    proc = subprocess.run(cmd, env=_env(sr), cwd=run_dir, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    (run_dir / "lmms_eval.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not any(run_dir.rglob("*_results.json")):
        raise SystemExit(f"{backend}: no results (exit {proc.returncode}), see {run_dir / 'lmms_eval.log'}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("backends_out"), help="output folder (default backends_out)")
    parser.add_argument("--sr", type=Path, help="SR data folder (default: the demo's, built into OUT/demo)")
    parser.add_argument("--per-type", type=int, default=1, help="questions per question type (default 1)")
    parser.add_argument("--gen-kwargs", default="max_new_tokens=32", help="lmms-eval --gen_kwargs (CPU time)")
    parser.add_argument("--archs", nargs="+", default=list(CPU_MODEL_ARGS), choices=list(CPU_MODEL_ARGS))
    args = parser.parse_args(argv)
    out = args.out.resolve()
    t0 = time.perf_counter()
    sr = args.sr.resolve() if args.sr else demo_sr(out / "demo").resolve()
    print(f"SR data: {sr} ({time.perf_counter() - t0:.0f} s)", flush=True)  # noqa: T201 (script output)
    sr = stratified_subset(sr, out / "sr_subset", args.per_type)
    walls: dict[str, float] = {}
    run_dirs = []
    for arch in args.archs:
        t1 = time.perf_counter()
        checkpoint = Path(_cli("tiny-model", "--arch", arch, "--out", str(out / "tiny" / arch)).strip())
        build = time.perf_counter() - t1
        run_dir = out / "runs" / LMMS_EVAL_MODEL[arch]
        walls[LMMS_EVAL_MODEL[arch]] = run_backend(arch, checkpoint, sr, run_dir, args.gen_kwargs)
        run_dirs.append(str(run_dir))
        print(f"  {LMMS_EVAL_MODEL[arch]}: checkpoint {build:.0f} s, lmms-eval {walls[LMMS_EVAL_MODEL[arch]]:.0f} s")  # noqa: T201
    print(f"\n$ spatial-r1 leaderboard {' '.join(run_dirs)} --protocol\n")  # noqa: T201 (script output)
    print(_cli("leaderboard", *run_dirs, "--protocol"))  # noqa: T201 (script output)
    print("| backend | lmms-eval wall time (s) |\n|---|---|")  # noqa: T201 (script output)
    for backend, wall in walls.items():
        print(f"| `{backend}` | {wall:.0f} |")  # noqa: T201 (script output)
    (out / "walls.json").write_text(json.dumps({"per_type": args.per_type, "tasks": TASKS, "wall_s": walls}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
