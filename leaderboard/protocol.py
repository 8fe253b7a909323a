"""How each leaderboard row was produced: the evaluation protocol read from lmms-eval's results and sample log.

VSI-Bench numbers move by points with the frames, pixels, prompt and lmms-eval version, so every run row carries
its :class:`Protocol` (``spatial-r1 leaderboard --protocol``), and rows are ranked only against rows scored on the
same question set: the **fingerprint**, a hash of the evaluated question ids and answers (from the sample log).
Published reference rows are on the full VSI-Bench test set (:data:`VSIBENCH_FINGERPRINT`, 5 130 questions).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Fingerprint of the full VSI-Bench test set (``../shared/data/vsibench/test.jsonl``, 5 130 questions; tested).
VSIBENCH_FINGERPRINT = "81e88093c455"
VSIBENCH_QUESTIONS = 5130
#: model_args keys that set the frames per video, by backend (qwen*, openai/llava_hf, internvl_hf, qwen-vl-utils).
FRAME_KEYS: tuple[str, ...] = ("max_num_frames", "max_frames_num", "num_frames", "nframes")


def fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """Order-free hash (12 hex digits) of a question set given as ``(id, ground_truth)`` pairs.

    Example:
        >>> fingerprint([("1", "4"), ("2", "B")]) == fingerprint([("2", "B"), ("1", "4")])
        True
        >>> fingerprint([("1", "4")]) == fingerprint([("1", "5")])
        False
    """
    lines = sorted(f"{qid}\t{answer}" for qid, answer in pairs)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


def parse_model_args(text: str) -> dict[str, str]:
    """lmms-eval's ``key=value,...`` model_args as a dict.

    Example:
        >>> parse_model_args("pretrained=/m,max_pixels=12544,device=cpu")["max_pixels"]
        '12544'
    """
    out = {}
    for part in (text or "").split(","):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


#: Protocol field -> its name in messages: what must agree between rows ranked together (not the model).
COMPARABLE: dict[str, str] = {
    "frames": "frames",
    "max_pixels": "max_pixels",
    "min_pixels": "min_pixels",
    "fps": "fps",
    "gen_kwargs": "generation settings",
    "prompt": "prompt",
    "task_version": "task version",
    "lmms_eval_version": "lmms-eval version",
}


@dataclass(frozen=True)
class Protocol:
    """The settings behind one run row (``None`` where the results do not say)."""

    model: str
    model_args: str
    frames: str | None
    max_pixels: str | None
    min_pixels: str | None
    fps: str | None
    gen_kwargs: str
    task: str
    task_version: str | None
    prompt: str
    lmms_eval_version: str | None
    lmms_eval_commit: str | None
    limit: str | None
    questions: int | None
    fingerprint: str | None

    def comparable(self) -> tuple:
        """What must agree for two rows on the same question set to be compared fairly (not the model)."""
        return tuple(getattr(self, name) for name in COMPARABLE)

    def footnote(self) -> str:
        """One line: the protocol fields that are set."""
        fields = {
            "model": self.model,
            "frames": self.frames,
            "max_pixels": self.max_pixels,
            "min_pixels": self.min_pixels,
            "fps": self.fps,
            "gen": self.gen_kwargs,
            "task": f"{self.task} v{self.task_version}" if self.task_version else self.task,
            "prompt": self.prompt,
            "lmms-eval": self.lmms_eval_version,
            "commit": self.lmms_eval_commit,
            "limit": self.limit,
            "questions": None if self.questions is None else f"{self.questions} (set {self.fingerprint})",
            "model_args": self.model_args,
        }
        return "; ".join(f"{k} {v}" for k, v in fields.items() if v not in (None, ""))


def _samples_pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    with path.open() as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            per_q = row.get("vsibench_overall") if isinstance(row.get("vsibench_overall"), dict) else None
            doc = row.get("doc") if isinstance(row.get("doc"), dict) else {}
            qid = per_q.get("id") if per_q else doc.get("id", row.get("doc_id"))
            answer = per_q.get("ground_truth") if per_q else doc.get("ground_truth", row.get("target"))
            pairs.append((str(qid), str(answer)))
    return pairs


#: ``<date id>_versions.json`` beside a ``<date id>_results.json``: installed package versions of the run, written by
#: ``spatial-r1 eval`` (:func:`write_versions`).
VERSIONS_SUFFIX = "versions.json"


def write_versions(results_path: str | os.PathLike[str], versions: dict[str, str]) -> Path:
    """Record the installed package versions of the run that wrote ``results_path`` next to it (atomic)."""
    from spatial_r1_eval.files import write_json

    path = Path(results_path)
    out = path.with_name(f"{path.name[: -len('_results.json')]}_{VERSIONS_SUFFIX}")
    write_json(out, dict(sorted(versions.items())))
    return out


def read_protocol(results_path: str | os.PathLike[str], task: str) -> Protocol:
    """The protocol of ``task`` in an lmms-eval ``*_results.json`` (fingerprint from its sample log, if logged).

    ``lmms_eval_version`` is the installed lmms-eval package version from ``<date id>_versions.json`` (written by
    ``spatial-r1 eval``), ``None`` for plain ``lmms-eval`` runs: lmms-eval 0.7.3's own ``lmms_eval_version`` field is
    the git ``branch@commit`` of the folder it was started in, not its version. ``lmms_eval_commit`` is that
    folder's commit (lmms-eval's own only when it ran from an lmms-eval checkout).
    """
    path = Path(results_path)
    results: dict[str, Any] = json.loads(path.read_text())
    config = results.get("config") or {}
    task_config = (results.get("configs") or {}).get(task) or {}
    model = str(config.get("model") or "")
    model_args = str(config.get("model_args") or "")
    args = parse_model_args(model_args)
    frames = next((args[k] for k in FRAME_KEYS if k in args), None)
    specific = task_config.get("lmms_eval_specific_kwargs") or {}
    task_frames = (specific.get(model) or {}).get("video_frames") if isinstance(specific, dict) else None
    if task_frames is not None:
        frames = f"{task_frames} (task-decoded)"
    gen = task_config.get("generation_kwargs") or {}
    gen_text = ",".join(f"{k}={gen[k]}" for k in sorted(gen) if k != "until")
    date_id = path.name[: -len("_results.json")]
    samples = path.with_name(f"{date_id}_samples_{task}.jsonl")
    pairs = _samples_pairs(samples) if samples.is_file() else None
    version = (results.get("versions") or {}).get(task)
    # lmms-eval 0.7.3 records no package version: its "lmms_eval_version" is "<branch>@<commit>" of the git checkout
    # it was started in. `spatial-r1 eval` writes the installed versions beside the results.
    stamped = path.with_name(f"{date_id}_{VERSIONS_SUFFIX}")
    installed = json.loads(stamped.read_text()) if stamped.is_file() else {}
    limit = config.get("limit")
    return Protocol(
        model=model,
        model_args=model_args,
        frames=frames,
        max_pixels=args.get("max_pixels"),
        min_pixels=args.get("min_pixels"),
        fps=args.get("fps") or args.get("video_fps"),
        gen_kwargs=gen_text,
        task=task,
        task_version=None if version is None else str(version),
        prompt="reasoning" if "_r1" in task else "direct",
        lmms_eval_version=installed.get("lmms-eval"),
        lmms_eval_commit=results.get("git_hash"),
        limit=None if limit is None else f"{limit:g}" if isinstance(limit, float) else str(limit),
        questions=None if pairs is None else len(pairs),
        fingerprint=None if pairs is None else fingerprint(pairs),
    )


def question_set_name(task: str) -> str:
    """Benchmark of a task (blind variants ask the same questions).

    Example:
        >>> question_set_name("vsibench_direct_blind"), question_set_name("sr_r1")
        ('VSI-Bench', 'SR')
    """
    return "VSI-Bench" if task.startswith("vsibench") else "SR" if task.startswith("sr") else task
