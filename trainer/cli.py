"""GRPO fine-tuning of a video MLLM on SR from a recipe YAML: ``spatial-r1 train --config FILE [--key value ...]``.

One process (CPU or one GPU)::

    spatial-r1 train --config trainer/recipes/smoke.yaml
    spatial-r1 train --config trainer/recipes/spatial_r1_7b.yaml --dataset_path /data/sr/sr_train.jsonl

Several GPUs (DeepSpeed ZeRO-3 through accelerate)::

    accelerate launch --config_file trainer/accelerate_configs/zero3.yaml \\
        -m spatial_r1_eval.trainer.cli --config trainer/recipes/spatial_r1_7b.yaml

Flags after the config override its keys (any ``SpatialR1Arguments`` or ``trl.GRPOConfig`` field). At the end the
command prints the mean reward per SR task over the run; the checkpoints, ``trainer_state.json`` (per-step logs,
including ``rewards/accuracy/<task>``), ``train_summary.json`` and ``train_curves.png`` (reward per task, format
reward, KL and completion length over the steps; its path is printed) are in ``output_dir``. Re-running with
``--resume_from_checkpoint true`` continues from the last checkpoint.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import defaultdict
from typing import Any

logger = logging.getLogger(__name__)

#: Metric-name prefix of per-task rewards in the trainer's logs.
_TASK_PREFIX = "rewards/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``--config`` and pass every other flag through to TRL's parser."""
    parser.add_argument("--config", required=True, help="recipe YAML (e.g. trainer/recipes/smoke.yaml)")
    parser.add_argument(
        "overrides",
        nargs=argparse.REMAINDER,
        help="recipe overrides as --key value (any SpatialR1Arguments or trl.GRPOConfig field)",
    )


def per_task_rewards(log_history: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean of each logged ``rewards/<reward>/<task>`` over the run: ``{reward: {task: mean}}``.

    Example:
        >>> logs = [{"rewards/accuracy/object_counting": 0.5, "rewards/accuracy/mean": 0.4},
        ...         {"rewards/accuracy/object_counting": 0.7, "loss": 0.1}]
        >>> per_task_rewards(logs)
        {'accuracy': {'object_counting': 0.6}}
    """
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for entry in log_history:
        for key, value in entry.items():
            if not key.startswith(_TASK_PREFIX):
                continue
            parts = key[len(_TASK_PREFIX) :].split("/")
            if len(parts) == 2 and parts[1] not in ("mean", "std"):
                values[(parts[0], parts[1])].append(float(value))
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (reward, task), vals in sorted(values.items()):
        out[reward][task] = round(sum(vals) / len(vals), 6)
    return dict(out)


def format_task_table(rewards: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per SR task (paper order), one column per reward.

    Example:
        >>> print(format_task_table({"accuracy": {"object_counting": 0.6}, "format": {"object_counting": 0.0}}))
        task             accuracy  format
        object_counting    0.6000  0.0000
    """
    from spatial_r1_eval.questions import task_sort_key

    names = list(rewards)
    tasks = sorted({t for r in rewards.values() for t in r}, key=task_sort_key)
    width = max([len("task"), *(len(t) for t in tasks)])
    header = "task".ljust(width) + "".join(f"  {n:>8}" for n in names)
    lines = [header]
    for task in tasks:
        cells = "".join(f"  {rewards[n][task]:8.4f}" if task in rewards[n] else f"  {'-':>8}" for n in names)
        lines.append(task.ljust(width) + cells)
    return "\n".join(lines)


def _dtype(name: str):
    import torch

    return {"auto": "auto", "bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[name]


def build_trainer(script_args, grpo_args, callbacks=None):
    """Load model, processor and data of a parsed recipe and build the :class:`VideoGRPOTrainer`."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from spatial_r1_eval.trainer.config import TINY_MODEL
    from spatial_r1_eval.trainer.data import load_sr_train
    from spatial_r1_eval.trainer.rewards import get_reward_funcs
    from spatial_r1_eval.trainer.video_grpo import VideoGRPOTrainer

    if script_args.model_name_or_path == TINY_MODEL:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model_path = script_args.resolved_model_path(grpo_args.output_dir, seed=grpo_args.seed)
    dataset_path = script_args.resolved_dataset_path(grpo_args.output_dir)
    dataset = load_sr_train(
        dataset_path, question_types=script_args.question_types, max_samples=script_args.max_samples
    )
    model_kwargs: dict[str, Any] = {"dtype": _dtype(script_args.torch_dtype)}
    if script_args.attn_implementation:
        model_kwargs["attn_implementation"] = script_args.attn_implementation
    model = AutoModelForImageTextToText.from_pretrained(model_path, **model_kwargs)
    processor = AutoProcessor.from_pretrained(model_path, padding_side="left")
    reward_funcs = get_reward_funcs(
        script_args.reward_funcs,
        nar_start=script_args.nar_start,
        nar_end=script_args.nar_end,
        nar_interval=script_args.nar_interval,
    )
    return VideoGRPOTrainer(
        model=model,
        reward_funcs=reward_funcs,
        args=grpo_args,
        train_dataset=dataset,
        processing_class=processor,
        callbacks=callbacks,
        video_budget=script_args.video_budget,
    )


def _resume_value(value: Any) -> bool | str | None:
    if value in (None, "", "false", "False", False):
        return None
    if value in ("true", "True", True):
        return True
    return str(value)


def train(argv: list[str]) -> dict[str, Any]:
    """Parse a recipe (``--config FILE`` plus overrides), train, and return the run summary.

    The summary (also written to ``<output_dir>/train_summary.json``) holds ``global_step``, ``train_runtime``,
    ``per_task_rewards`` and the ``model_path`` / ``dataset_path`` that were used.
    """
    from transformers.trainer_utils import get_last_checkpoint

    from spatial_r1_eval.files import write_json
    from spatial_r1_eval.trainer.config import parse_config

    script_args, grpo_args = parse_config(argv)
    logger.info("rollouts: %s", f"vLLM ({grpo_args.vllm_mode})" if grpo_args.use_vllm else "transformers generate")
    resume = _resume_value(grpo_args.resume_from_checkpoint)
    if resume is True:
        last = get_last_checkpoint(grpo_args.output_dir) if os.path.isdir(grpo_args.output_dir) else None
        resume = last  # None: nothing to resume, start fresh
        if last is None:
            logger.info("no checkpoint in %s: starting from scratch", grpo_args.output_dir)
    elif isinstance(resume, str) and not os.path.isdir(resume):
        raise FileNotFoundError(f"{resume}: resume_from_checkpoint folder not found")
    trainer = build_trainer(script_args, grpo_args)
    result = trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(grpo_args.output_dir)
    if trainer.accelerator.is_main_process:
        trainer.save_state()
    rewards = per_task_rewards(trainer.state.log_history)
    summary = {
        "global_step": trainer.state.global_step,
        "train_runtime": result.metrics.get("train_runtime"),
        "train_loss": result.metrics.get("train_loss"),
        "per_task_rewards": rewards,
        "model_path": script_args.resolved_model_path(grpo_args.output_dir, seed=grpo_args.seed),
        "resumed_from": resume,
        "rollouts": "vllm" if grpo_args.use_vllm else "transformers",
    }
    if trainer.accelerator.is_main_process:
        summary["curves"] = _write_curves(trainer.state.log_history, grpo_args.output_dir)
        write_json(os.path.join(grpo_args.output_dir, "train_summary.json"), summary)
    return summary


def _write_curves(log_history: list[dict[str, Any]], output_dir: str) -> str | None:
    """``<output_dir>/train_curves.png`` (:mod:`spatial_r1_eval.trainer.curves`); ``None`` if nothing was logged."""
    from spatial_r1_eval.trainer.curves import CURVES_FILE, save_train_curves

    try:
        return str(save_train_curves(log_history, os.path.join(output_dir, CURVES_FILE)))
    except ValueError as e:
        logger.warning("no %s: %s", CURVES_FILE, e)
        return None


def run(args: argparse.Namespace) -> int:
    """``spatial-r1 train``: train from the recipe and print the per-task rewards."""
    overrides = [a for a in (args.overrides or []) if a != "--"]
    summary = train(["--config", args.config, *overrides])
    from accelerate import PartialState

    if not PartialState().is_main_process:  # under accelerate launch / torchrun: one table per run
        return 0
    steps, seconds = summary["global_step"], summary["train_runtime"]
    print(f"trained {steps} steps in {seconds:.1f} s ({summary['rollouts']} rollouts)")
    print("mean reward per task over the run:")
    print(format_task_table(summary["per_task_rewards"]))
    if summary.get("curves"):
        print(f"training curves: {summary['curves']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m spatial_r1_eval.trainer.cli`` / ``accelerate launch -m ...`` (same flags)."""
    parser = argparse.ArgumentParser(prog="spatial_r1_eval.trainer.cli", description=__doc__.splitlines()[0])
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (FileNotFoundError, ValueError) as e:
        if os.environ.get("SPATIAL_R1_DEBUG") == "1":
            raise
        print(f"spatial_r1_eval.trainer.cli: error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
