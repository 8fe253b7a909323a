"""GRPO that demonstrably learns: the update goes the way the advantages say, on the video the completion came from.

1. One real optimiser step of :class:`VideoGRPOTrainer` (``trainer.train()``, ``max_steps: 1``) on one fixed batch:
   two rows asking the same question about two different mp4s, four completions each sampled by the trainer with
   the video, rewards known in advance. Measured through the trainer's own video log-prob path, the log-probability
   of every completion with a positive advantage rises and every one with a negative advantage falls. Negative
   control: the same step with the two videos swapped in the update (generation saw the right ones) fails the
   log-prob check: the policy log-probs of the update are no longer those of the completions under their video.
2. ``spatial-r1 train`` writes ``train_curves.png`` whose panels draw the logged series (slow).

3. The learnable toy run (``benchmarks/toy_grpo.py``, README "Does it learn?"): the exact probability of the right
   answer rises from chance to well above it, and with the rewards shuffled across rows it does not. Two runs of
   about 7 minutes each on a 2-core machine, more than CI allows: marked ``toy``, deselected unless ``--run-toy``
   (``make test-toy``).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: The trainer's per-row video tensors.
VIDEO_KEYS = ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")
#: Known rewards of the 8 completions (2 prompts x 4 generations, in TRL's row order): every group has both signs.
KNOWN_REWARDS = (1.0, 0.0, 0.0, 0.5, 0.0, 1.0, 0.2, 0.0)


class KnownRewards:
    """A TRL reward returning :data:`KNOWN_REWARDS` in row order (picklable)."""

    __name__ = "known"

    def __call__(self, completions, **columns):
        return list(KNOWN_REWARDS[: len(completions)])


@pytest.fixture(scope="module")
def two_video_rows(tmp_path_factory):
    """Two rows with the same question and two different videos (identical prompt tokens but for the pixels)."""
    import datasets

    from spatial_r1_eval.trainer.data import load_sr_train, write_sample_sr_train

    dataset = load_sr_train(write_sample_sr_train(tmp_path_factory.mktemp("sr"), n_videos=2))
    first, second = dataset[0], dataset[4]
    assert first["problem"] == second["problem"] and first["video"] != second["video"]
    return datasets.Dataset.from_list([first, second])


def _one_step(model_dir: Path, rows, out_dir: Path, *, swap_videos: bool):
    """One ``trainer.train()`` step; returns the trainer, the initial model, the recorded batch and the policy
    log-probs the loss used (rows in the loss's order)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig

    from spatial_r1_eval.trainer.video_grpo import VideoGRPOTrainer
    from spatial_r1_eval.trainer.video_inputs import VideoBudget

    class RecordingTrainer(VideoGRPOTrainer):
        """Records the generated batch and the loss's log-probs; optionally feeds the update the other video."""

        def _generate_and_score_completions(self, inputs):
            out = super()._generate_and_score_completions(inputs)
            self.batch = {k: (v.clone() if torch.is_tensor(v) else list(v)) for k, v in out.items()}
            if swap_videos:  # rows 0-3 are the first prompt's completions, rows 4-7 the second's
                for key in VIDEO_KEYS:
                    out[key] = out[key][4:] + out[key][:4]
            return out

        def _compute_loss(self, model, inputs):
            self.loss_rows = inputs["completion_ids"].clone()
            return super()._compute_loss(model, inputs)

        def _get_per_token_logps_and_entropies(self, model, input_ids, *args, **kwargs):
            out = super()._get_per_token_logps_and_entropies(model, input_ids, *args, **kwargs)
            if torch.is_grad_enabled():  # the policy pass of the loss
                self.loss_logps = out[0].detach().clone()
            return out

    args = GRPOConfig(
        output_dir=str(out_dir), use_cpu=True, bf16=False, seed=0, max_steps=1, num_generations=4,
        per_device_train_batch_size=8, max_completion_length=8, beta=0.0, optim="sgd", learning_rate=1.0,
        lr_scheduler_type="constant", save_strategy="no", logging_steps=1, report_to="none",
        gradient_checkpointing=False,
    )  # fmt: skip
    trainer = RecordingTrainer(
        model=AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32),
        reward_funcs=[KnownRewards()],
        args=args,
        train_dataset=rows,
        processing_class=AutoProcessor.from_pretrained(model_dir, padding_side="left"),
        video_budget=VideoBudget(frames=4, max_pixels=4 * 28 * 28),
    )
    initial = copy.deepcopy(trainer.model).eval()
    trainer.train()
    return trainer, initial


def _token_logps(trainer, model, batch) -> torch.Tensor:
    """Per-token log-probs of the batch's completions through the trainer's video path, each row with its video."""
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    trainer._video_forward = {k: batch[k] for k in VIDEO_KEYS}
    try:
        with torch.no_grad():
            logps, _, _ = trainer._get_per_token_logps_and_entropies(
                model.eval(), ids, mask, batch["completion_ids"].size(1), batch_size=2
            )
    finally:
        trainer._video_forward = None
    return logps * batch["completion_mask"]


def _loss_logps_in_batch_order(trainer) -> torch.Tensor:
    """The loss's policy log-probs, rows put back in the batch order (TRL shuffles rows before the update)."""
    batch_rows = [tuple(r) for r in trainer.batch["completion_ids"].tolist()]
    assert len(set(batch_rows)) == len(batch_rows), "two identical completions: rows cannot be matched"
    order = [batch_rows.index(tuple(r)) for r in trainer.loss_rows.tolist()]
    logps = torch.empty_like(trainer.loss_logps)
    logps[order] = trainer.loss_logps
    return logps * trainer.batch["completion_mask"]


def test_one_step_raises_positive_and_lowers_negative_advantage_completions(sharp_tiny_qwen, two_video_rows, tmp_path):
    trainer, initial = _one_step(sharp_tiny_qwen, two_video_rows, tmp_path / "run", swap_videos=False)
    batch = trainer.batch
    # the known rewards reached TRL: advantages have the sign of reward - group mean
    rewards = torch.tensor(KNOWN_REWARDS).view(2, 4)
    expected_sign = torch.sign(rewards - rewards.mean(dim=1, keepdim=True)).flatten()
    assert torch.equal(torch.sign(batch["advantages"]), expected_sign)
    # each row's video reached the loss: its policy log-probs are those of the completion under that video
    before = _token_logps(trainer, initial, batch)
    torch.testing.assert_close(_loss_logps_in_batch_order(trainer), before, rtol=0, atol=1e-5)
    after = _token_logps(trainer, trainer.model, batch)
    delta = (after - before).sum(dim=1)
    print("advantages", batch["advantages"].tolist(), "log-prob change", delta.tolist())
    assert ((delta > 0) == (batch["advantages"] > 0)).all(), (delta, batch["advantages"])
    assert delta.abs().min() > 1e-2, delta  # far above float noise


def test_the_wrong_video_in_the_update_fails_the_log_prob_check(sharp_tiny_qwen, two_video_rows, tmp_path):
    """Negative control: generation saw each row's video, the update the other row's. The completions' log-probs
    under their own video differ from what the loss used, so a trainer that mixed videos up is caught."""
    trainer, initial = _one_step(sharp_tiny_qwen, two_video_rows, tmp_path / "run", swap_videos=True)
    before = _token_logps(trainer, initial, trainer.batch)
    mismatch = (_loss_logps_in_batch_order(trainer) - before).abs().max()
    print("largest per-token log-prob mismatch with the wrong video", float(mismatch))
    assert mismatch > 1e-3, mismatch


@pytest.mark.slow
def test_train_writes_curves_png_with_the_logged_series(tmp_path, capsys):
    """``spatial-r1 train`` on the smoke recipe writes ``train_curves.png`` and prints its path; the picture is a real
    PNG of the four panels and each drawn series is the trainer's logged values, read back from trainer_state.json."""
    import json

    import numpy as np
    from PIL import Image

    from spatial_r1_eval.commands.cli import main
    from spatial_r1_eval.trainer.curves import PANELS, curves_figure
    from spatial_r1_eval.trainer.data import write_sample_sr_train

    data = write_sample_sr_train(tmp_path / "sr", n_videos=1)
    out = tmp_path / "run"
    recipe = Path(__file__).resolve().parents[1] / "trainer" / "recipes" / "smoke.yaml"
    argv = ["train", "--config", str(recipe), "--", "--dataset_path", str(data), "--output_dir", str(out),
            "--max_steps", "3", "--max_completion_length", "8", "--save_strategy", "no"]  # fmt: skip
    assert main(argv) == 0
    png = out / "train_curves.png"
    assert f"training curves: {png}" in capsys.readouterr().out
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (1200, 800)
        pixels = np.asarray(image.convert("RGB"))
    assert len({tuple(c) for c in pixels.reshape(-1, 3)[::5]}) > 50  # text, axes and series, not a blank canvas

    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    steps = [e for e in history if "rewards/accuracy/mean" in e]
    assert len(steps) == 3
    expected = {  # panel -> {label: values}, straight from the log
        PANELS[0]: {
            k.removeprefix("rewards/"): [e[k] for e in steps if k in e]
            for k in {k for e in steps for k in e if k.startswith("rewards/accuracy/") and not k.endswith("/std")}
        },
        PANELS[1]: {"format": [e["rewards/format/mean"] for e in steps]},
        PANELS[2]: {"kl": [e["kl"] for e in steps]},
        PANELS[3]: {"mean": [e["completions/mean_length"] for e in steps],
                    "max": [e["completions/max_length"] for e in steps]},
    }  # fmt: skip
    assert len(expected[PANELS[0]]) >= 3  # the mean and at least two SR tasks
    figure = curves_figure(history)
    assert [ax.get_title() for ax in figure.axes] == list(PANELS)
    for ax in figure.axes:
        lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]  # running means: unlabelled
        drawn = {line.get_label(): [float(y) for y in line.get_ydata()] for line in lines}
        assert drawn.keys() == expected[ax.get_title()].keys(), ax.get_title()
        for label, values in drawn.items():
            assert values == pytest.approx(expected[ax.get_title()][label]), (ax.get_title(), label)


def _toy_module():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "toy_grpo.py"
    spec = importlib.util.spec_from_file_location("toy_grpo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.toy
@pytest.mark.slow
@pytest.mark.parametrize("shuffle", [False, True], ids=["learns", "shuffled-rewards-do-not"])
def test_toy_run_learns_the_answer_and_shuffled_rewards_do_not(shuffle: bool, tmp_path: Path) -> None:
    toy = _toy_module()
    result = toy.run_toy(tmp_path, shuffle=shuffle, steps=30, seed=0)
    for task in toy.TOY_TASKS:
        before, after = result[task]["expected_before"], result[task]["expected_after"]
        assert abs(before - result["chance"]) < 0.1, (task, before)  # the policy starts at chance
        if shuffle:
            assert after < result["chance"] + 0.1, (task, before, after)
        else:
            assert after > 0.8, (task, before, after)
