"""A learnable toy GRPO run on CPU: the per-task accuracy reward rises from chance, and does not with shuffled rewards.

The setting is made so that a tiny random Qwen2.5-VL can reach the reward in a few dozen steps:

* two multiple-choice SR tasks with four options each, asked about real mp4s (``write_sample_sr_train``'s videos),
  with the VSI-Bench direct prompt (``prompts.build_direct_prompt``: "Answer with the option's letter ...");
* completions of one token, and answers that are single tokens (``A``-``D`` in the tiny tokenizer);
* a learnable regularity: every answer is ``C`` (an answer prior, as real benchmarks have). A first design with a
  different letter per task (``C`` / ``A``) taught the tiny model one letter for both tasks (accuracy 1.0 on one, 0
  on the other after 30 steps): its last-token states barely differ between the two prompts;
* the policy starts at chance: the output rows of the four letters are set so that the untrained model answers
  with a letter almost always, each about equally often (25 % accuracy), like an instruction-tuned model that
  knows the format but not the answer.

The reward is the project's accuracy reward (``scoring`` MAR), logged per task. The negative control trains on the
same rewards shuffled across the rows of each batch (:class:`ShuffledReward`), while the true accuracy is still
logged (weight 0): it must stay at chance.

Usage (about 3-6 minutes per run on a loaded 2-core machine)::

    python benchmarks/toy_grpo.py --steps 40 --out /tmp/toy
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: The toy tasks: question type -> (question, options, the answer every row of the task has).
TOY_TASKS: dict[str, tuple[str, list[str], str]] = {
    "object_rel_distance": (
        "Measuring from the closest point of each object, which of these objects ({objects}) is the closest to "
        "the {target}?",
        ["A. {0}", "B. {1}", "C. {2}", "D. {3}"],
        "C",
    ),
    "obj_appearance_order": (
        "What will be the first-time appearance order of the following categories in the video: {objects}?",
        ["A. {1}, {0}, {3}, {2}", "B. {2}, {3}, {0}, {1}", "C. {0}, {1}, {2}, {3}", "D. {3}, {2}, {1}, {0}"],
        "C",
    ),
}
_OBJECTS = ("chair", "desk", "lamp", "door", "sofa", "bed", "table", "window", "towel", "shelf", "pillow", "stool")
LETTERS = ("A", "B", "C", "D")
#: SGD step size. Plain SGD with the gradient norm clipped at 1 (TRL's default): each update moves the weights by at
#: most this much in norm, along the policy gradient. (Adam's first step moves every weight by about its learning
#: rate whatever the gradient, which knocks the tiny model off its letter prior, in the shuffled control too.)
LEARNING_RATE = float(os.environ.get("TOY_LR", "0.1"))


def toy_rows(root: str | os.PathLike[str], n_per_task: int = 8) -> list[dict[str, Any]]:
    """GRPO rows of the toy tasks (object names rotate; videos from ``write_sample_sr_train``)."""
    from spatial_r1_eval.prompts import build_direct_prompt
    from spatial_r1_eval.trainer.data import load_sr_train, write_sample_sr_train

    videos = sorted({r["video"] for r in load_sr_train(write_sample_sr_train(Path(root) / "videos", n_videos=2))})
    rows = []
    for qt, (question, options, answer) in TOY_TASKS.items():
        for i in range(n_per_task):
            objs = [_OBJECTS[(i + k * 3) % len(_OBJECTS)] for k in range(4)]
            target = _OBJECTS[(i + 5) % len(_OBJECTS)]
            record = {
                "question_type": qt,
                "question": question.format(objects=", ".join(objs), target=target),
                "options": [o.format(*objs) for o in options],
            }
            rows.append({
                "prompt": [{"role": "user", "content": build_direct_prompt(record)}],
                "video": videos[i % len(videos)], "question_type": qt, "ground_truth": answer,
                "options": record["options"],
            })  # fmt: skip
    return rows


def letter_policy(src: str | os.PathLike[str], dst: str | os.PathLike[str], rows, logit: float = 8.0) -> Path:
    """Copy the tiny model ``src`` to ``dst`` with the output rows of ``A``-``D`` set so that, after any prompt, the
    four letters get a logit of about ``logit`` (the others about 0): the model answers with a letter, at chance."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from spatial_r1_eval.trainer.video_grpo import _with_video_block
    from spatial_r1_eval.trainer.video_inputs import VideoBudget, load_video_frames, video_model_inputs

    processor = AutoProcessor.from_pretrained(src)
    model = AutoModelForImageTextToText.from_pretrained(src, dtype=torch.float32).eval()
    hidden = []
    for row in rows[:: max(1, len(rows) // 4)]:
        prompt = _with_video_block(row["prompt"])
        text = processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        frames, fps = load_video_frames(row["video"], VideoBudget(frames=4, max_pixels=4 * 28 * 28))
        inputs = video_model_inputs(processor, text, frames, fps)
        inputs["second_per_grid_ts"] = torch.as_tensor(inputs["second_per_grid_ts"])
        with torch.no_grad():
            hidden.append(model.model(**inputs).last_hidden_state[0, -1])
    mean = torch.stack(hidden).mean(0)
    ids = [processor.tokenizer.convert_tokens_to_ids(letter) for letter in LETTERS]
    with torch.no_grad():
        model.lm_head.weight[ids] = logit * mean / mean.dot(mean)
    model.save_pretrained(dst)
    processor.save_pretrained(dst)
    return Path(dst)


class ShuffledReward:
    """A reward whose values are another reward's, permuted across the rows of each call (negative control).

    Example:
        >>> shuffled = ShuffledReward(lambda completions, **kw: [1.0, 0.0, 0.0, 0.0], seed=0)
        >>> sorted(shuffled(["a", "b", "c", "d"]))
        [0.0, 0.0, 0.0, 1.0]
    """

    __name__ = "shuffled"

    def __init__(self, reward, seed: int = 0):
        import numpy as np

        self.reward = reward
        self.rng = np.random.default_rng(seed)

    def __call__(self, completions, **columns):
        values = self.reward(completions, **columns)
        return [values[i] for i in self.rng.permutation(len(values))]


def expected_accuracy(trainer, rows) -> dict[str, float]:
    """Per task, the policy's probability of the right letter, averaged over the rows (exact: no sampling noise)."""
    import torch

    ids = trainer.processing_class.tokenizer.convert_tokens_to_ids
    batch = trainer._build_video_batch(rows)
    out: dict[str, list[float]] = {}
    model = trainer.model
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        for i, row in enumerate(rows):
            input_ids = torch.tensor([batch["prompt_ids"][i]], device=device)
            logits = model(
                input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                mm_token_type_ids=torch.tensor([batch["mm_token_type_ids"][i]], device=device),
                **{k: batch[k][i].to(device) for k in ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")},
            ).logits[0, -1]  # fmt: skip
            p = torch.softmax(logits.float() / trainer.temperature, dim=-1)[ids(row["ground_truth"])]
            out.setdefault(row["question_type"], []).append(float(p))
    model.train(was_training)
    return {task: round(sum(v) / len(v), 4) for task, v in out.items()}


def run_toy(out: str | os.PathLike[str], *, shuffle: bool, steps: int = 40, seed: int = 0) -> dict[str, Any]:
    """Train the toy setting; returns per task the expected accuracy of the policy before and after training
    (:func:`expected_accuracy`) and the logged accuracy reward over the first and last fifth of the steps."""
    import datasets
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig

    from spatial_r1_eval.tiny_model import build_tiny_qwen2_5_vl
    from spatial_r1_eval.trainer.curves import CURVES_FILE, save_train_curves
    from spatial_r1_eval.trainer.rewards import accuracy_reward
    from spatial_r1_eval.trainer.video_grpo import VideoGRPOTrainer
    from spatial_r1_eval.trainer.video_inputs import VideoBudget

    out = Path(out)
    rows = toy_rows(out / "data")
    model_dir = letter_policy(build_tiny_qwen2_5_vl(out / "tiny", seed=seed), out / "letter-policy", rows)
    args = GRPOConfig(
        output_dir=str(out / ("shuffled" if shuffle else "run")), use_cpu=True, bf16=False, seed=seed,
        max_steps=steps, num_generations=8, per_device_train_batch_size=16, max_completion_length=1,
        temperature=1.0, optim="sgd", learning_rate=LEARNING_RATE, lr_scheduler_type="constant", beta=0.0,
        reward_weights=[0.0, 1.0] if shuffle else [1.0, 0.0], save_strategy="no", logging_steps=1,
        report_to="none", gradient_checkpointing=False, disable_tqdm=True,
    )  # fmt: skip
    torch.manual_seed(seed)
    trainer = VideoGRPOTrainer(
        model=AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32),
        reward_funcs=[accuracy_reward, ShuffledReward(accuracy_reward, seed=seed)],
        args=args,
        train_dataset=datasets.Dataset.from_list(rows),
        processing_class=AutoProcessor.from_pretrained(model_dir, padding_side="left"),
        video_budget=VideoBudget(frames=4, max_pixels=4 * 28 * 28),
    )
    before = expected_accuracy(trainer, rows)
    trainer.train()
    after = expected_accuracy(trainer, rows)
    history = trainer.state.log_history
    save_train_curves(history, Path(args.output_dir) / CURVES_FILE, title="toy GRPO" + (" (shuffled)" * shuffle))
    fifth = max(1, steps // 5)
    result: dict[str, Any] = {"seed": seed, "steps": steps, "shuffled": shuffle, "chance": 0.25}
    for task in TOY_TASKS:
        values = [e[f"rewards/accuracy/{task}"] for e in history if f"rewards/accuracy/{task}" in e]
        result[task] = {
            "expected_before": before[task],
            "expected_after": after[task],  # p(right letter), exact
            "logged_first_fifth": round(sum(values[:fifth]) / fifth, 4),  # sampled accuracy reward, as logged
            "logged_last_fifth": round(sum(values[-fifth:]) / fifth, 4),
            "logged_steps": len(values),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="working folder")
    parser.add_argument("--steps", type=int, default=40, help="GRPO steps per run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the tiny model and the run")
    parser.add_argument("--only", choices=["learn", "shuffled"], help="run only one of the two")
    args = parser.parse_args(argv)
    results = {}
    for name in ("learn", "shuffled"):
        if args.only in (None, name):
            results[name] = run_toy(args.out, shuffle=name == "shuffled", steps=args.steps, seed=args.seed)
            print(json.dumps({name: results[name]}), flush=True)
    Path(args.out, "toy_results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
