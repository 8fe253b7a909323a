"""Reward cost vs training-step cost, measured in one run; plus a real-size GPU step when CUDA is available.

CPU part (always): runs the smoke recipe (tiny Qwen2.5-VL, real mp4s, 2 GRPO steps) and times the rewards
(accuracy + format, the same functions the trainer calls) on

* the smoke step's batch (8 completions), and
* a paper-size batch (8 generations x 16 prompts = 128 completions of ~3 kB reasoning text),

printing reward time / smoke step time. The reward must be a negligible fraction of a step.

GPU part (only when ``torch.cuda.is_available()``): one GRPO step of a random-weight Qwen2.5-VL-7B (the released
config: 28 layers, hidden 3584, 32-block vision tower) with the paper's video budget (16 frames x 128*28*28 px),
8 generations, bf16, gradient checkpointing; prints seconds per step and peak GPU memory. Full AdamW on 7B needs
ZeRO-3 across GPUs, so this single-GPU step uses SGD (no optimizer state) and is labelled so.

    .venv/bin/python benchmarks/rewards.py            # CPU part (and the GPU part on a CUDA machine)
    .venv/bin/python benchmarks/rewards.py --no-gpu   # skip the GPU part
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from spatial_r1_eval.trainer.data import SAMPLE_QUESTIONS, write_sample_sr_train

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]


def reward_batch(n: int, text_chars: int, seed: int = 0) -> tuple[list[str], dict[str, list]]:
    rng = np.random.default_rng(seed)
    completions, cols = [], {"question_type": [], "solution": [], "options": []}
    for i in range(n):
        qt, _, opts, gt = SAMPLE_QUESTIONS[i % len(SAMPLE_QUESTIONS)]
        answer = str(rng.choice(["A", "B", "3", "21", "about 20 square meters"]))
        think = ("let me think, hmm, the sofa is near the bed. " * (text_chars // 45 + 1))[:text_chars]
        completions.append(f"<think>{think}</think><answer>{answer}</answer>")
        cols["question_type"].append(qt)
        cols["solution"].append(f"<answer>{gt}</answer>")
        cols["options"].append(opts)
    return completions, cols


def time_rewards(completions: list[str], cols: dict, repeat: int = 20) -> float:
    from spatial_r1_eval.trainer.rewards import get_reward_funcs

    funcs = get_reward_funcs(["accuracy", "format"])
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for f in funcs:
            f(completions=completions, prompts=[""] * len(completions), **cols)
        best = min(best, time.perf_counter() - t0)
    return best


def cpu_part() -> None:
    from spatial_r1_eval.trainer.cli import train

    with tempfile.TemporaryDirectory() as tmp:
        data = write_sample_sr_train(Path(tmp) / "data")
        out = Path(tmp) / "run"
        argv = ["--config", str(REPO / "trainer/recipes/smoke.yaml"), "--dataset_path", str(data)]
        train([*argv, "--output_dir", str(out), "--save_strategy", "no"])
        state = json.loads((out / "trainer_state.json").read_text())
    step_times = [e["step_time"] for e in state["log_history"] if "step_time" in e]
    step = float(np.mean(step_times))
    small = time_rewards(*reward_batch(8, 400))
    large = time_rewards(*reward_batch(128, 3000))
    print(f"smoke GRPO step (tiny Qwen2.5-VL, 8 completions, CPU): {step * 1e3:9.1f} ms (mean of {len(step_times)})")
    print(f"rewards, smoke batch (8 completions):            {small * 1e3:9.3f} ms -> {small / step:.2e} of a step")
    print(f"rewards, paper batch (128 completions x 3 kB):   {large * 1e3:9.3f} ms -> {large / step:.2e} of a step")


def gpu_part(keep_model: Path | None = None) -> dict:
    """One GRPO step of the random 7B (see the module docstring); returns its figures.

    Args:
        keep_model: Where to keep the random 7B checkpoint (bf16, with the tiny tokenizer) for later use, e.g. the
            vLLM throughput of ``benchmarks/gpu_check.sh``; ``None``: a temporary folder, deleted.
    """
    import torch
    from transformers import AutoProcessor, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from trl import GRPOConfig

    from spatial_r1_eval.tiny_model import build_tiny_qwen2_5_vl
    from spatial_r1_eval.trainer.data import load_sr_train
    from spatial_r1_eval.trainer.rewards import get_reward_funcs
    from spatial_r1_eval.trainer.video_grpo import VideoGRPOTrainer
    from spatial_r1_eval.trainer.video_inputs import VideoBudget

    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_tiny_qwen2_5_vl(Path(tmp) / "tiny", seed=0)  # tokenizer, chat template, processors
        processor = AutoProcessor.from_pretrained(tiny, padding_side="left")
        tok = processor.tokenizer
        config = Qwen2_5_VLConfig(
            text_config={
                "vocab_size": 152064, "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
                "num_attention_heads": 28, "num_key_value_heads": 4, "max_position_embeddings": 128000,
                "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
                "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
            },
            vision_config={
                "depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 3584,
                "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 112,
                "fullatt_block_indexes": [7, 15, 23, 31], "in_chans": 3,
            },
            image_token_id=tok.convert_tokens_to_ids("<|image_pad|>"),
            video_token_id=tok.convert_tokens_to_ids("<|video_pad|>"),
            vision_start_token_id=tok.convert_tokens_to_ids("<|vision_start|>"),
            vision_end_token_id=tok.convert_tokens_to_ids("<|vision_end|>"),
        )  # fmt: skip
        with torch.device("cuda"):
            model = Qwen2_5_VLForConditionalGeneration(config).to(torch.bfloat16)
        model_dir = Path(keep_model) if keep_model is not None else Path(tmp) / "qwen7b-random"
        model.save_pretrained(model_dir)
        processor.save_pretrained(model_dir)
        del model
        torch.cuda.empty_cache()
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(model_dir, dtype=torch.bfloat16)
        data = write_sample_sr_train(Path(tmp) / "data", n_videos=1)
        frames_path = Path(tmp) / "data" / "videos" / "scannet" / "scene9000_00.mp4"
        assert frames_path.is_file()
        args = GRPOConfig(
            output_dir=str(Path(tmp) / "run"), bf16=True, num_generations=8, per_device_train_batch_size=8,
            max_completion_length=256, max_steps=2, learning_rate=1e-6, beta=0.04, optim="sgd",
            gradient_checkpointing=True, report_to="none", save_strategy="no", logging_steps=1,
        )  # fmt: skip
        trainer = VideoGRPOTrainer(
            model=model, reward_funcs=get_reward_funcs(["accuracy", "format"]), args=args,
            train_dataset=load_sr_train(data), processing_class=processor,
            video_budget=VideoBudget(frames=16, max_pixels=128 * 28 * 28),
        )  # fmt: skip
        torch.cuda.reset_peak_memory_stats()
        trainer.train()
        steps = [e["step_time"] for e in trainer.state.log_history if "step_time" in e]
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f"GPU {torch.cuda.get_device_name()}: random Qwen2.5-VL-7B, 16 frames x 128*28*28 px, 8 generations,")
        print(f"  bf16, SGD, gradient checkpointing: {steps[-1]:.1f} s/step (second step), "
              f"peak memory {peak:.1f} GiB")  # fmt: skip
        return {
            "device": torch.cuda.get_device_name(), "s_per_step": steps, "s_per_step_second": steps[-1],
            "peak_memory_gib": round(peak, 2), "frames": 16, "max_pixels": 128 * 28 * 28, "num_generations": 8,
            "max_completion_length": 256, "dtype": "bfloat16", "optimizer": "sgd", "gradient_checkpointing": True,
        }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-gpu", action="store_true", help="skip the real-size GPU step")
    args = parser.parse_args()
    cpu_part()
    import torch

    if torch.cuda.is_available() and not args.no_gpu:
        gpu_part()
    else:
        print("GPU part skipped (no CUDA device): run this script on a GPU machine for the 7B step")


if __name__ == "__main__":
    main()
