"""The whole pipeline in one command on synthetic scenes (``spatial-r1 demo --out DIR`` / ``make demo``).

Stages, each skipped when its output is already complete (re-running reuses finished stages):

1. ``DIR/scannet``: synthetic scenes in the exact ScanNet layout (``spatial-r1 synth``);
2. ``DIR/sr``: the SR dataset, all eight tasks (the paper's seven and route planning), with videos
   (``spatial-r1 generate``);
3. ``DIR/tiny-model``: a tiny random Qwen2.5-VL checkpoint (``spatial-r1 tiny-model``);
4. ``DIR/runs/<model>``: the real ``lmms-eval`` CLI on task ``sr`` for ``chance_random``, ``chance_frequency``
   and the tiny Qwen2.5-VL (``qwen2_5_vl`` backend, CPU);
5. the leaderboard of those runs next to the paper's Table 1 (printed), ``DIR/leaderboard.html`` and
   ``DIR/leaderboard.png``;
6. ``DIR/train``: two GRPO smoke steps on ``DIR/sr/sr_train.jsonl``, printing the per-task rewards.

Nothing is downloaded: every model and dataset is built here. The numbers are those of random and chance
models on tiny synthetic data; they show the plumbing, not a result.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from spatial_r1_eval.tiny_model import CPU_MODEL_ARGS

logger = logging.getLogger(__name__)

#: lmms-eval model arguments of the tiny Qwen2.5-VL on CPU: the backend tests' (small pixel budget, few frames).
TINY_QWEN_ARGS = "pretrained={path}," + CPU_MODEL_ARGS["qwen2_5_vl"]
#: Models evaluated by the demo: row name -> (lmms-eval model, model_args template).
DEMO_MODELS: dict[str, tuple[str, str]] = {
    "chance_random": ("chance_random", ""),
    "chance_frequency": ("chance_frequency", ""),
    "tiny_qwen2_5_vl": ("qwen2_5_vl", TINY_QWEN_ARGS),
}
STAGES = ("scenes", "sr", "tiny-model", "eval", "leaderboard", "train")


def _banner(i: int, text: str) -> None:
    print(f"\n[{i}/{len(STAGES)}] {text}", flush=True)  # noqa: T201 (CLI output)


def _done(what: str) -> None:
    print(f"      reusing {what} (already complete)", flush=True)  # noqa: T201 (CLI output)


def stage_scenes(out: Path, n_scenes: int, seed: int, n_frames: int) -> Path:
    from spatial_r1_eval.generation.synth import write_synthetic_scenes

    root = out / "scannet"
    keys = [root / "scans" / f"scene{9000 + i:04d}_00" / "answer_key.json" for i in range(n_scenes)]
    existed = all(k.is_file() for k in keys)
    write_synthetic_scenes(
        root, n_scenes, seed, n_frames=n_frames, width=320, height=240
    )  # keeps scenes whose options match
    if existed:
        _done(f"{n_scenes} scene(s) in {root}")
    return root


def stage_sr(scannet: Path, out: Path, seed: int, workers: int) -> Path:
    from spatial_r1_eval.generation.pipeline import generate

    sr = out / "sr"
    existed = (sr / "sr.jsonl").is_file() and (sr / "report.json").is_file()
    report = generate(scannet, sr, seed=seed, workers=workers, videos=True, progress=existed is False)
    failed = report["scenes"]["failed"]
    if failed:
        raise ValueError(f"SR generation failed for {len(failed)} scene(s): {failed}")
    if existed:
        _done(f"SR dataset {sr} (cached per scene)")
    counts = ", ".join(f"{task} {n}" for task, n in sorted(report["counts"].items()))
    print(f"      {sum(report['counts'].values())} questions: {counts}", flush=True)  # noqa: T201 (CLI output)
    return sr


def stage_tiny_model(out: Path, seed: int) -> Path:
    from spatial_r1_eval.tiny_model import build_tiny_qwen2_5_vl

    path = out / "tiny-model"
    if (path / "config.json").is_file() and (path / "model.safetensors").is_file():
        _done(str(path))
        return path
    return Path(build_tiny_qwen2_5_vl(path, seed=seed))


def stage_eval(out: Path, sr: Path, tiny: Path, limit: int | None) -> list[Path]:
    from spatial_r1_eval.commands.evaluate import build_command

    env = dict(os.environ, SPATIAL_R1_SR_DIR=str(sr.resolve()), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    run_dirs = []
    for name, (model, args_template) in DEMO_MODELS.items():
        run_dir = (out / "runs" / name).resolve()
        run_dirs.append(run_dir)
        if any(run_dir.rglob("*_results.json")):
            _done(f"lmms-eval run {run_dir}")
            continue
        run_dir.mkdir(parents=True, exist_ok=True)
        cmd = build_command(
            argparse.Namespace(
                tasks="sr",
                model=model,
                model_args=args_template.format(path=tiny.resolve()),
                output=run_dir,
                limit=limit,
                gen_kwargs=None,
                batch_size=1,
                lmms_eval_args=[],
            )
        )
        print(f"      lmms-eval: {model} on sr -> {run_dir}", flush=True)  # noqa: T201 (CLI output)
        t0 = time.time()
        # run inside the run folder, as `spatial-r1 eval` does: lmms-eval reads `--tasks sr` as a folder if ./sr exists
        proc = subprocess.run(cmd, env=env, cwd=run_dir, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
            raise RuntimeError(f"lmms-eval failed for {model} (exit {proc.returncode}):\n{tail}")
        print(f"      done in {time.time() - t0:.0f} s", flush=True)  # noqa: T201 (CLI output)
    return run_dirs


def stage_leaderboard(out: Path, run_dirs: list[Path]) -> tuple[Path, Path]:
    from spatial_r1_eval.leaderboard.html import write_html
    from spatial_r1_eval.leaderboard.plots import plot_rows, save_bar_chart
    from spatial_r1_eval.leaderboard.reference import load_reference
    from spatial_r1_eval.leaderboard.runs import read_runs
    from spatial_r1_eval.leaderboard.table import build_leaderboard

    runs = read_runs(run_dirs)
    board = build_leaderboard(runs, reference=load_reference("spatial-r1-table1"))
    print(board.render("md"), flush=True)  # noqa: T201 (CLI output)
    html = write_html(board, out / "leaderboard.html", chart_rows=plot_rows(board))
    png = save_bar_chart(plot_rows(board, [r.name for r in runs]), out / "leaderboard.png", title="SR (demo)")
    print(f"      wrote {html}\n      wrote {png}", flush=True)  # noqa: T201 (CLI output)
    return Path(html), Path(png)


def stage_train(out: Path, sr: Path, tiny: Path, steps: int) -> dict:
    from spatial_r1_eval.trainer.cli import format_task_table, train

    train_dir = out / "train"
    summary_path = train_dir / "train_summary.json"
    if summary_path.is_file():
        from spatial_r1_eval.files import read_json

        summary = read_json(summary_path)
        if summary.get("global_step", 0) >= steps:
            _done(str(train_dir))
            print(format_task_table(summary["per_task_rewards"]), flush=True)  # noqa: T201 (CLI output)
            return summary
    from importlib.resources import files

    recipe = Path(str(files("spatial_r1_eval.trainer") / "recipes" / "smoke.yaml"))
    summary = train(
        [
            "--config",
            str(recipe),
            "--output_dir",
            str(train_dir),
            "--model_name_or_path",
            str(tiny.resolve()),
            "--dataset_path",
            str((sr / "sr_train.jsonl").resolve()),
            "--max_steps",
            str(steps),
        ]
    )
    print(format_task_table(summary["per_task_rewards"]), flush=True)  # noqa: T201 (CLI output)
    return summary


@dataclass(frozen=True)
class DemoConfig:
    """The options of ``spatial-r1 demo`` (its flags are derived from these fields)."""

    out: str = field(default="demo_out", metadata={"help": "output folder; re-runs reuse it"})
    scenes: int = field(default=3, metadata={"help": "synthetic scenes"})
    frames: int = field(default=300, metadata={"help": "camera frames per scene, 30 fps"})
    seed: int = field(default=0, metadata={"help": "seed of every stage"})
    workers: int = field(default=1, metadata={"help": "processes for SR generation"})
    limit: int | None = field(default=None, metadata={"help": "evaluate only the first N SR questions per model"})
    train_steps: int = field(default=2, metadata={"help": "GRPO smoke steps"})

    def __post_init__(self) -> None:
        for name in ("scenes", "frames", "workers", "train_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1 (or left out for every question), got {self.limit}")


def run_demo(config: DemoConfig) -> dict[str, Path]:
    """Run every stage into ``config.out``; returns the main output paths."""
    scenes, frames, seed, workers = config.scenes, config.frames, config.seed, config.workers
    limit, train_steps = config.limit, config.train_steps
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    _banner(1, f"synthesising {scenes} ScanNet-format scene(s) -> {out / 'scannet'}")
    scannet = stage_scenes(out, scenes, seed, frames)
    _banner(2, f"generating SR (eight tasks, videos) -> {out / 'sr'}")
    sr = stage_sr(scannet, out, seed, workers)
    _banner(3, f"building a tiny random Qwen2.5-VL -> {out / 'tiny-model'}")
    tiny = stage_tiny_model(out, seed)
    _banner(4, "evaluating chance_random, chance_frequency and the tiny Qwen2.5-VL on sr through the lmms-eval CLI")
    run_dirs = stage_eval(out, sr, tiny, limit)
    _banner(5, "leaderboard (runs next to the paper's Table 1)")
    html, png = stage_leaderboard(out, run_dirs)
    _banner(6, f"GRPO smoke: {train_steps} step(s) on {sr / 'sr_train.jsonl'}")
    stage_train(out, sr, tiny, train_steps)
    print(f"\ndemo finished in {time.time() - t0:.0f} s; outputs in {out}", flush=True)  # noqa: T201 (CLI output)
    return {"scannet": scannet, "sr": sr, "tiny_model": tiny, "html": html, "png": png, "train": out / "train"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``spatial-r1 demo`` options: one flag per :class:`DemoConfig` field."""
    from spatial_r1_eval.generation.config_flags import add_dataclass_flags

    add_dataclass_flags(parser, DemoConfig)


def run(args: argparse.Namespace) -> int:
    from spatial_r1_eval.generation.config_flags import from_flags

    run_demo(from_flags(DemoConfig, args))
    return 0
