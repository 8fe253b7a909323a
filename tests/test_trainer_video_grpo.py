"""Video GRPO on a tiny random Qwen2.5-VL with real mp4 videos: video reaches generation and log-probs; the smoke
recipe trains end to end on CPU, changes the parameters, logs per-task rewards, checkpoints and resumes.

Data: a small ``sr_train.jsonl`` in the generator's training schema with real H.264 mp4s
(``trainer.data.write_sample_sr_train``);
the ``dataset_path: synthetic`` route through the project's SR generator has its own slow test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "trainer" / "recipes" / "smoke.yaml"


@pytest.fixture(scope="session")
def sr_train(tmp_path_factory) -> Path:
    """A small ``sr_train.jsonl`` with real mp4s (fast and independent of the generator's settings)."""
    from spatial_r1_eval.trainer.data import write_sample_sr_train

    return write_sample_sr_train(tmp_path_factory.mktemp("sr_train"))


@pytest.fixture(scope="session")
def trainer(sharp_tiny_qwen, sr_train, tmp_path_factory):
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig

    from spatial_r1_eval.trainer.data import load_sr_train
    from spatial_r1_eval.trainer.rewards import get_reward_funcs
    from spatial_r1_eval.trainer.video_grpo import VideoGRPOTrainer
    from spatial_r1_eval.trainer.video_inputs import VideoBudget

    args = GRPOConfig(
        output_dir=str(tmp_path_factory.mktemp("unit_run")), use_cpu=True, bf16=False, num_generations=2,
        per_device_train_batch_size=2, max_completion_length=8, report_to="none", beta=0.04,
        gradient_checkpointing=False, seed=0,
    )  # fmt: skip
    return VideoGRPOTrainer(
        model=AutoModelForImageTextToText.from_pretrained(sharp_tiny_qwen, dtype=torch.float32),
        reward_funcs=get_reward_funcs(["accuracy", "format"]),
        args=args,
        train_dataset=load_sr_train(sr_train, max_samples=8),
        processing_class=AutoProcessor.from_pretrained(sharp_tiny_qwen, padding_side="left"),
        video_budget=VideoBudget(frames=4, max_pixels=4 * 28 * 28),
    )


def _reference_logps(model, processed: dict, completion: list[int]) -> torch.Tensor:
    """Plain transformers forward on one unpadded row: log p(completion | prompt, video) from the logits."""
    prompt = processed["input_ids"]
    ids = torch.cat([prompt, torch.tensor([completion])], dim=1)
    mm = torch.cat([processed["mm_token_type_ids"], torch.zeros(1, len(completion), dtype=torch.long)], dim=1)
    with torch.no_grad():
        logits = model(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            mm_token_type_ids=mm,
            pixel_values_videos=processed["pixel_values_videos"],
            video_grid_thw=processed["video_grid_thw"],
            second_per_grid_ts=torch.as_tensor(processed["second_per_grid_ts"]),
        ).logits
    logp = torch.log_softmax(logits[0, prompt.size(1) - 1 : -1].float(), dim=-1)
    return logp.gather(-1, torch.tensor(completion)[:, None])[:, 0]


def test_video_log_probs_match_a_plain_forward_and_depend_on_the_video(trainer, sharp_tiny_qwen):
    """The trainer's padded, batched video log-probs equal an independent unpadded HF forward, row by row."""
    from transformers import AutoModelForImageTextToText

    from spatial_r1_eval.trainer.video_inputs import load_video_frames, video_model_inputs

    rows = [trainer.train_dataset[0], trainer.train_dataset[len(trainer.train_dataset) - 1]]
    batch = trainer._build_video_batch(rows)
    assert [len(p) for p in batch["prompt_ids"]] != [0, 0]
    vocab = trainer._tokenizer
    allowed = [t for t in range(50, 300) if t not in trainer.generation_config.suppress_tokens]
    rng = np.random.default_rng(0)
    completions = [rng.choice(allowed, size=6).tolist(), rng.choice(allowed, size=6).tolist()]
    width = max(len(p) for p in batch["prompt_ids"])
    ids, mask = [], []
    for p, c in zip(batch["prompt_ids"], completions, strict=True):
        pad = width - len(p)
        ids.append([vocab.pad_token_id] * pad + p + c)
        mask.append([0] * pad + [1] * (len(p) + len(c)))
    trainer._video_forward = {k: batch[k] for k in ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")}
    try:
        logps, _, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model, torch.tensor(ids), torch.tensor(mask), 6, batch_size=1
        )
    finally:
        trainer._video_forward = None
    reference = AutoModelForImageTextToText.from_pretrained(sharp_tiny_qwen, dtype=torch.float32).eval()
    for i, row in enumerate(rows):
        frames, fps = load_video_frames(row["video"], trainer.video_budget)
        processed = video_model_inputs(trainer.processing_class, trainer._prompt_text(row["prompt"]), frames, fps)
        assert processed["input_ids"][0].tolist() == batch["prompt_ids"][i]
        expected = _reference_logps(reference, processed, completions[i])
        torch.testing.assert_close(logps[i].float(), expected, rtol=1e-4, atol=1e-4)
        # a different video (black frames) changes the log-probs: the video really is an input
        dark = video_model_inputs(trainer.processing_class, trainer._prompt_text(row["prompt"]), frames * 0, fps)
        assert not torch.allclose(_reference_logps(reference, dark, completions[i]), expected, atol=1e-6)


def test_video_batch_shapes_follow_the_budget(trainer):
    rows = [trainer.train_dataset[0]]
    batch = trainer._build_video_batch(rows)
    (grid,) = batch["video_grid_thw"]
    t, h, w = grid[0].tolist()
    assert t == trainer.video_budget.frames // 2  # temporal patch 2
    assert h * w * 14 * 14 <= trainer.video_budget.max_pixels
    assert batch["pixel_values_videos"][0].shape[0] == t * h * w
    n_video_tokens = batch["prompt_ids"][0].count(trainer._video_pad_token_id)
    assert n_video_tokens == t * h * w // 4  # 2x2 spatial merge
    assert sum(1 for x in batch["mm_token_type_ids"][0] if x == 2) == n_video_tokens


@pytest.mark.parametrize("frames", [2, 4])
def test_seconds_per_temporal_patch_follow_the_sampled_frame_rate(trainer, frames):
    """``second_per_grid_ts`` = temporal patch / sampled fps, with the fps read independently from the mp4 (PyAV):
    the reference (qwen-vl-utils) value, not transformers' 24 fps default that collapses the temporal positions."""
    import av

    from spatial_r1_eval.trainer.video_inputs import VideoBudget, load_video_frames, video_model_inputs

    row = trainer.train_dataset[0]
    with av.open(row["video"]) as container:
        stream = container.streams.video[0]
        n_frames = stream.frames
        duration = n_frames / float(stream.average_rate)
    clip, fps = load_video_frames(row["video"], VideoBudget(frames=frames, max_pixels=4 * 28 * 28))
    processed = video_model_inputs(trainer.processing_class, trainer._prompt_text(row["prompt"]), clip, fps)
    temporal_patch = trainer.processing_class.video_processor.temporal_patch_size
    expected = temporal_patch * duration / frames
    assert processed["second_per_grid_ts"].tolist() == pytest.approx([expected], rel=1e-6)


def test_frames_are_decoded_with_decord_whatever_else_is_installed(trainer):
    from qwen_vl_utils import vision_process

    from spatial_r1_eval.trainer.video_inputs import VideoBudget, load_video_frames

    if os.environ.get("FORCE_QWENVL_VIDEO_READER"):
        pytest.skip("FORCE_QWENVL_VIDEO_READER is set: the user's choice wins")
    load_video_frames(trainer.train_dataset[0]["video"], VideoBudget(frames=2, max_pixels=4 * 28 * 28))
    assert vision_process.get_video_reader_backend() == "decord"


def test_vision_tokens_are_suppressed_in_sampling(trainer):
    ids = {trainer._tokenizer.convert_tokens_to_ids(t) for t in ("<|video_pad|>", "<|image_pad|>", "<|vision_start|>")}
    assert ids <= set(trainer.generation_config.suppress_tokens)


def _params(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.mark.slow
def test_smoke_recipe_trains_logs_per_task_rewards_checkpoints_and_resumes(sr_train, tmp_path, capsys):
    from spatial_r1_eval.commands.cli import main

    out = tmp_path / "run"
    argv = ["train", "--config", str(SMOKE), "--", "--dataset_path", str(sr_train), "--output_dir", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "trained 2 steps" in printed and "mean reward per task" in printed

    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["global_step"] == 2
    state = json.loads((out / "trainer_state.json").read_text())
    task_keys = {k for e in state["log_history"] for k in e if k.startswith("rewards/accuracy/") and k.count("/") == 2}
    task_keys -= {"rewards/accuracy/mean", "rewards/accuracy/std"}
    assert task_keys, "no per-task reward was logged"
    from spatial_r1_eval.questions import TASKS

    assert {k.split("/")[-1] for k in task_keys} <= set(TASKS)
    for reward in ("accuracy", "format"):
        for task, value in summary["per_task_rewards"][reward].items():
            assert task in TASKS and 0.0 <= value <= 1.0
    assert any(e.get("reward_std", 0) > 0 for e in state["log_history"]), "no reward variance: no policy gradient"

    # the parameters moved away from the initial tiny model
    before, after = _params(out / "tiny-model"), _params(out)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed, "training did not change any parameter"
    assert (out / "checkpoint-1").is_dir() and (out / "checkpoint-2").is_dir()

    # resume from the last checkpoint and train one more step
    argv_resume = [*argv, "--max_steps", "3", "--resume_from_checkpoint", "true"]
    assert main(argv_resume) == 0
    resumed = json.loads((out / "train_summary.json").read_text())
    assert resumed["global_step"] == 3
    assert resumed["resumed_from"].endswith("checkpoint-2")


@pytest.mark.slow
def test_smoke_recipe_as_shipped_runs_on_generated_sr_data(tmp_path, capsys):
    """The acceptance command: the shipped smoke recipe (tiny model + SR data from the generator on a synthetic
    scene), with only the output folder changed."""
    from spatial_r1_eval.commands.cli import main

    out = tmp_path / "smoke"
    assert main(["train", "--config", str(SMOKE), "--", "--output_dir", str(out), "--save_strategy", "no"]) == 0
    assert "mean reward per task" in capsys.readouterr().out
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["global_step"] == 2 and summary["per_task_rewards"]["accuracy"]
    rows = [json.loads(line) for line in (out / "sr_data" / "sr" / "sr_train.jsonl").read_text().splitlines()]
    assert rows and all((out / "sr_data" / "sr" / r["path"]).is_file() for r in rows)
