"""Every lmms-eval backend on the demo SR data: tiny random checkpoints, the real CLI, the protocol leaderboard.

Run: ``python benchmarks/backends_demo.py [--out backends_out] [--sr demo_out/sr] [--limit 4]``.

1. The demo's SR data: ``--sr`` (e.g. ``demo_out/sr`` of ``make demo``), or, when absent, the demo's own first two
   stages (three synthetic ScanNet-layout scenes, then the SR dataset with videos) into ``OUT/demo``.
2. The four tiny checkpoints: ``spatial-r1 tiny-model --arch A --out OUT/tiny/A`` (seed 0; rows are named ``tiny__A``).
3. One ``lmms-eval --tasks sr,sr_r1 --limit N --log_samples`` run per backend (``qwen2_5_vl``, ``qwen3_vl``,
   ``llava_hf --force_simple``, ``internvl_hf``) with the CPU ``--model_args`` of the README's backend table
   (:data:`spatial_r1_eval.tiny_model.CPU_MODEL_ARGS`), timed (wall seconds, model loading included).
4. ``spatial-r1 leaderboard OUT/runs/* --protocol`` over the runs (printed), and the wall times.

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


def run_backend(arch: str, checkpoint: Path, sr: Path, run_dir: Path, limit: int, gen_kwargs: str) -> float:
    """One ``lmms-eval`` run of the ``arch`` backend on :data:`TASKS`; returns its wall seconds."""
    backend = LMMS_EVAL_MODEL[arch]
    cmd = [sys.executable, "-m", "lmms_eval", "--include_path", _cli("eval", "--print-include-path").strip()]
    cmd += ["--tasks", TASKS, "--model", backend, "--model_args", f"pretrained={checkpoint},{CPU_MODEL_ARGS[arch]}"]
    cmd += ["--limit", str(limit), "--output_path", str(run_dir), "--log_samples", *LMMS_EVAL_FLAGS.get(arch, ())]
    if gen_kwargs:
        cmd += ["--gen_kwargs", gen_kwargs]
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"$ {' '.join(cmd[2:])}", flush=True)  # noqa: T201 (script output)
    t0 = time.perf_counter()
    # run inside the run folder: lmms-eval reads `--tasks sr` as a folder when ./sr exists
    proc = subprocess.run(cmd, env=_env(sr), cwd=run_dir, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    (run_dir / "lmms_eval.log").write_text(proc.stdout + proc.stderr)
    # lmms-eval 0.7.3 exits 0 after an evaluation error: a results file is the proof of a run
    if proc.returncode != 0 or not any(run_dir.rglob("*_results.json")):
        raise SystemExit(f"{backend}: no results (exit {proc.returncode}), see {run_dir / 'lmms_eval.log'}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("backends_out"), help="output folder (default backends_out)")
    parser.add_argument("--sr", type=Path, help="SR data folder (default: the demo's, built into OUT/demo)")
    parser.add_argument("--limit", type=int, default=4, help="questions per task (default 4)")
    parser.add_argument("--gen-kwargs", default="max_new_tokens=32", help="lmms-eval --gen_kwargs (CPU time)")
    parser.add_argument("--archs", nargs="+", default=list(CPU_MODEL_ARGS), choices=list(CPU_MODEL_ARGS))
    args = parser.parse_args(argv)
    out = args.out.resolve()
    t0 = time.perf_counter()
    sr = args.sr.resolve() if args.sr else demo_sr(out / "demo").resolve()
    print(f"SR data: {sr} ({time.perf_counter() - t0:.0f} s)", flush=True)  # noqa: T201 (script output)
    walls: dict[str, float] = {}
    run_dirs = []
    for arch in args.archs:
        t1 = time.perf_counter()
        checkpoint = Path(_cli("tiny-model", "--arch", arch, "--out", str(out / "tiny" / arch)).strip())
        build = time.perf_counter() - t1
        run_dir = out / "runs" / LMMS_EVAL_MODEL[arch]
        walls[LMMS_EVAL_MODEL[arch]] = run_backend(arch, checkpoint, sr, run_dir, args.limit, args.gen_kwargs)
        run_dirs.append(str(run_dir))
        print(f"  {LMMS_EVAL_MODEL[arch]}: checkpoint {build:.0f} s, lmms-eval {walls[LMMS_EVAL_MODEL[arch]]:.0f} s")  # noqa: T201
    print(f"\n$ spatial-r1 leaderboard {' '.join(run_dirs)} --protocol\n")  # noqa: T201 (script output)
    print(_cli("leaderboard", *run_dirs, "--protocol"))  # noqa: T201 (script output)
    print("| backend | lmms-eval wall time (s) |\n|---|---|")  # noqa: T201 (script output)
    for backend, wall in walls.items():
        print(f"| `{backend}` | {wall:.0f} |")  # noqa: T201 (script output)
    (out / "walls.json").write_text(json.dumps({"limit": args.limit, "tasks": TASKS, "wall_s": walls}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
