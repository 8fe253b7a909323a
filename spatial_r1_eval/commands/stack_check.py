"""Prove that the installed stack runs, not just imports (the last step of ``make setup``).

``python -m spatial_r1_eval.commands.stack_check`` runs, offline and in about half a minute on two cores:

1. **lmms-eval**: one real CLI evaluation (``python -m lmms_eval``) of the ``chance_frequency`` model on the
   ``sr_blind`` task over six bundled questions, then checks that the results JSON holds the overall score that
   our own core computes for those questions (:func:`spatial_r1_eval.tasks.baselines.fit_frequency` →
   :func:`spatial_r1_eval.scoring.score` → :func:`spatial_r1_eval.aggregation.aggregate`).
2. **transformers**: builds the tiny random Qwen2.5-VL (:func:`spatial_r1_eval.tiny_model.build_tiny_qwen2_5_vl`),
   loads it back and runs one forward pass.
3. **TRL**: every private ``GRPOTrainer`` method that our :class:`VideoGRPOTrainer` overrides still exists in the
   installed TRL with the parameters our override passes on (these are copied from TRL 1.16 and break first when
   TRL moves).

Any failure prints ``stack check FAILED: <what>`` followed by the versions of the packages that matter, and exits
with status 1. Success prints one line per check and the versions.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "transformers", "trl", "lmms-eval", "accelerate", "datasets", "filelock", "tokenizers", "av")

# Six questions of the SR record schema (two scenes). chance_frequency fitted on them answers each numerical type
# with its single ground truth and each multiple-choice type with the most frequent correct option text.
_RECORDS = [
    ("object_counting", "How many chair(s) are in this room?", [], "4"),
    ("object_counting", "How many table(s) are in this room?", [], "2"),
    ("object_size_estimation", "What is the length of the longest dimension of the bed, in centimeters?", [], "203"),
    (
        "object_rel_direction_easy",
        "Standing by the bed facing the desk, is the door to my left or right?",
        ["A. left", "B. right"],
        "A",
    ),
    (
        "object_rel_direction_easy",
        "Standing by the sink facing the door, is the bed to my left or right?",
        ["A. right", "B. left"],
        "A",
    ),
    (
        "object_rel_distance",
        "Which of these objects (chair, lamp, door, sink) is the closest to the bed?",
        ["A. chair", "B. lamp", "C. door", "D. sink"],
        "C",
    ),
]

# GRPOTrainer methods that trainer/video_grpo.py overrides (and calls through super()).
TRL_OVERRIDES = (
    "_generate_and_score_completions",
    "_tokenize_prompts",
    "_generate_single_turn",
    "_compute_loss",
    "_get_per_token_logps_and_entropies",
    "_calculate_rewards",
)


class StackCheckError(RuntimeError):
    """A part of the stack that is installed but does not run."""


def versions() -> dict[str, str]:
    """Installed versions of the packages the stack check covers (``"missing"`` when absent).

    >>> "torch" in versions()
    True
    """
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def write_records(root: Path, questions: list[tuple[str, str, list[str], str]] | None = None) -> list[dict]:
    """Write questions as an SR folder (``root/sr.jsonl``) and return the records.

    Args:
        root: The SR folder (videos, when needed, go under ``root/videos/scannet/<scene>.mp4``).
        questions: ``(question_type, question, options, ground_truth)`` tuples; default the six bundled ones. They
            alternate between the scenes ``scene9000_00`` and ``scene9001_00``; ids are ``<scene>/<type>/<index>``.
    """
    records = []
    for i, (qt, question, options, gt) in enumerate(_RECORDS if questions is None else questions):
        scene = f"scene90{i % 2:02d}_00"
        records.append(
            {
                "id": f"{scene}/{qt}/{i}",
                "dataset": "scannet",
                "scene_name": scene,
                "question_type": qt,
                "question": question,
                "options": options,
                "ground_truth": gt,
                "video": f"scannet/{scene}.mp4",
                "meta": {"generator": qt, "index": i},
            }
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / "sr.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return records


def expected_overall(records: list[dict]) -> float:
    """The overall score of ``chance_frequency`` on ``records``, computed by our core without lmms-eval."""
    from spatial_r1_eval.aggregation import aggregate
    from spatial_r1_eval.scoring import score
    from spatial_r1_eval.tasks.baselines import fit_frequency, frequency_prediction

    fitted = fit_frequency(records)
    scores = [score(frequency_prediction(r, fitted), r) for r in records]
    return aggregate([r["question_type"] for r in records], scores)["overall"]


def check_lmms_eval(work: Path) -> str:
    """Run the real lmms-eval CLI once and compare its overall score with our core's."""
    from spatial_r1_eval.tasks import tasks_dir

    records = write_records(work / "sr")
    out = work / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPATIAL_R1_", "VSIBENCH"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", SPATIAL_R1_SR_DIR=str(work / "sr"))
    cmd = [sys.executable, "-m", "lmms_eval", "--include_path", str(tasks_dir()), "--tasks", "sr_blind"]
    cmd += ["--model", "chance_frequency", "--output_path", str(out), "--log_samples"]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    results = sorted(out.rglob("*_results.json"))
    if proc.returncode != 0 or not results:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise StackCheckError(f"lmms-eval CLI exited {proc.returncode} without a results file: " + " | ".join(tail))
    got = json.loads(results[-1].read_text())["results"]["sr_blind"]["vsibench_overall,none"]
    want = expected_overall(records)
    if abs(got - want) > 1e-9:
        raise StackCheckError(f"lmms-eval scored chance_frequency {got} on the bundled questions, our core {want}")
    return f"lmms-eval: chance_frequency on sr_blind ({len(records)} questions) overall {got:.4f} = our core"


def check_transformers(work: Path) -> str:
    """Build the tiny random Qwen2.5-VL, load it back, run one forward pass."""
    import torch
    from transformers import AutoModelForImageTextToText

    from spatial_r1_eval.tiny_model import build_tiny_qwen2_5_vl

    path = build_tiny_qwen2_5_vl(work / "tiny", seed=0)
    model = AutoModelForImageTextToText.from_pretrained(path)
    ids = torch.arange(1, 9).unsqueeze(0)
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    if logits.shape[:2] != ids.shape or not torch.isfinite(logits).all():
        raise StackCheckError(f"tiny Qwen2.5-VL forward gave logits of shape {tuple(logits.shape)} / non-finite")
    return f"transformers: tiny {model.config.model_type} built, loaded, forward {tuple(logits.shape)}"


def check_trl() -> str:
    """Our GRPOTrainer overrides still match methods of the installed TRL."""
    from trl import GRPOTrainer

    from spatial_r1_eval.trainer.video_grpo import VideoGRPOTrainer

    for name in TRL_OVERRIDES:
        base = getattr(GRPOTrainer, name, None)
        if base is None:
            raise StackCheckError(f"trl.GRPOTrainer has no method {name} (VideoGRPOTrainer overrides it)")
        ours = inspect.signature(getattr(VideoGRPOTrainer, name)).parameters
        theirs = inspect.signature(base).parameters
        missing = [p for p in ours if p not in theirs and ours[p].kind is not inspect.Parameter.VAR_KEYWORD]
        if missing:
            raise StackCheckError(f"trl.GRPOTrainer.{name} lost parameter(s) {missing} that VideoGRPOTrainer uses")
    return f"trl: the {len(TRL_OVERRIDES)} GRPOTrainer methods VideoGRPOTrainer overrides match"


def main() -> int:
    """Run the three checks; print one line each (or the failure) and the versions."""
    found = versions()
    table = ", ".join(f"{k} {v}" for k, v in found.items())
    try:
        with tempfile.TemporaryDirectory(prefix="spatial-r1-stack-") as tmp:
            work = Path(tmp)
            lines = [check_lmms_eval(work), check_transformers(work), check_trl()]
    except Exception as exc:  # any failure of the stack, reported with the versions that produced it
        print(f"stack check FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"versions: {table}", file=sys.stderr)
        return 1
    for line in lines:
        print(f"stack check ok: {line}")
    print(f"versions: {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
