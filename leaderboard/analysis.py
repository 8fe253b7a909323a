"""Per-task error analysis of one lmms-eval run (``spatial-r1 leaderboard RUN --analysis OUT/``).

From the sample logs (``--log_samples``), through the core's answer parsing: numerical question types get a
relative-error histogram and a predicted-vs-true scatter (log scale); multiple-choice types get the confusion of
predicted vs true option *text*; reasoning tasks report their format-failure rate per type. Writes one PNG per task
and question type, ``analysis.json`` with the numbers, and ``index.html`` showing them.
"""

from __future__ import annotations

import html
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from spatial_r1_eval.answers import extract_answer, parse_choice, parse_number
from spatial_r1_eval.metrics import format_reward
from spatial_r1_eval.questions import is_numerical

UNPARSED = "(no answer)"


def _option_text(letter: str | None, options: list[str]) -> str:
    for option in options:
        head, _, body = option.partition(".")
        if letter is not None and head.strip().upper() == letter:
            return body.strip() or option
    return UNPARSED if letter is None else letter


def analyse_rows(rows: list[dict[str, Any]], reasoning: bool) -> dict[str, dict[str, Any]]:
    """Question type -> error summary of the logged rows of one task.

    Numerical: ``truth``, ``predicted`` (``None`` when unparsed), ``relative_error`` per question. Multiple choice:
    ``confusion`` as ``[true text, predicted text, count]``. Both: ``n``, ``unparsed``, and ``format_failures`` for
    reasoning tasks (completions not in the ``<think>…</think><answer>…</answer>`` format).

    Example:
        >>> rows = [{"vsibench_overall": {"question_type": "object_counting", "ground_truth": "4",
        ...                               "prediction": "<answer>2</answer>"}}]
        >>> analyse_rows(rows, reasoning=True)["object_counting"]["relative_error"]
        [0.5]
    """
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        per_q = row["vsibench_overall"]
        qt, prediction = per_q["question_type"], per_q.get("prediction", "")
        doc = row.get("doc") if isinstance(row.get("doc"), dict) else {}
        entry = out.setdefault(qt, {"n": 0, "unparsed": 0, "format_failures": 0 if reasoning else None})
        entry["n"] += 1
        if reasoning and format_reward(prediction) < 1.0:
            entry["format_failures"] += 1
        answer = extract_answer(prediction)
        if is_numerical(qt):
            truth, predicted = float(per_q["ground_truth"]), parse_number(answer)
            entry.setdefault("truth", []).append(truth)
            entry.setdefault("predicted", []).append(predicted)
            error = None if predicted is None or truth == 0 else abs(predicted - truth) / abs(truth)
            entry.setdefault("relative_error", []).append(error)
            entry["unparsed"] += predicted is None
        else:
            options = [str(o) for o in (per_q.get("options") or doc.get("options") or [])]
            letter = parse_choice(answer, options)
            pair = (_option_text(str(per_q["ground_truth"]).strip().upper(), options), _option_text(letter, options))
            entry.setdefault("_pairs", Counter())[pair] += 1
            entry["unparsed"] += letter is None
    for entry in out.values():
        pairs = entry.pop("_pairs", None)
        if pairs is not None:
            entry["confusion"] = [[t, p, c] for (t, p), c in sorted(pairs.items())]
    return out


def _save(fig: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    os.replace(tmp, path)


def _plot(qt: str, entry: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if "relative_error" in entry:
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
        errors = [e for e in entry["relative_error"] if e is not None]
        left.hist(np.clip(errors, 0, 3), bins=np.linspace(0, 3, 31), color="#4477aa")
        left.set(xlabel="relative error |pred - true| / true (clipped at 3)", ylabel="questions")
        pairs = [(t, p) for t, p in zip(entry["truth"], entry["predicted"], strict=True) if p is not None and p > 0]
        if pairs:
            t, p = np.array(pairs).T
            right.scatter(t, p, s=12, color="#cc6677")
            low, high = min(t.min(), p.min()), max(t.max(), p.max())
            right.plot([low, high], [low, high], color="#999999", lw=1)
            right.set(xscale="log", yscale="log")
        right.set(xlabel="true", ylabel="predicted")
    else:
        labels_true = sorted({t for t, _, _ in entry["confusion"]})
        labels_pred = sorted({p for _, p, _ in entry["confusion"]})
        grid = np.zeros((len(labels_true), len(labels_pred)))
        for t, p, c in entry["confusion"]:
            grid[labels_true.index(t), labels_pred.index(p)] = c
        fig, ax = plt.subplots(figsize=(max(4.5, 1.5 + 0.9 * len(labels_pred)), 1.8 + 0.5 * len(labels_true)))
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(labels_pred)), labels_pred, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels_true)), labels_true, fontsize=7)
        for (i, j), c in np.ndenumerate(grid):
            if c:
                ax.text(j, i, int(c), ha="center", va="center", fontsize=7)
        ax.set(xlabel="predicted", ylabel="true")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def write_analysis(runs: list[Any], out_dir: str | os.PathLike[str]) -> Path:
    """PNG per (run, question type), ``analysis.json`` and ``index.html`` in ``out_dir``; returns the HTML path.

    Raises:
        ValueError: no run has a sample log (naming the results files).
    """
    out = Path(out_dir)
    logged = [r for r in runs if r.samples is not None]
    if not logged:
        files = ", ".join(str(r.results_path) for r in runs)
        raise ValueError(f"--analysis needs sample logs (re-run lmms-eval with --log_samples): {files}")
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {}
    sections = []
    for run in logged:
        rows = [json.loads(line) for line in run.samples.path.read_text().splitlines() if line.strip()]
        analysis = analyse_rows(rows, reasoning="_r1" in run.task)
        report[run.name] = analysis
        slug = "".join(ch if ch.isalnum() else "_" for ch in run.name)
        items = []
        for qt, entry in sorted(analysis.items()):
            png = f"{slug}__{qt}.png"
            _plot(qt, entry, out / png, f"{run.name}: {qt}")
            fails = "" if entry["format_failures"] is None else f", format failures {entry['format_failures']}"
            caption = f"{qt}: {entry['n']} questions, {entry['unparsed']} without a parsable answer{fails}"
            items.append(f'<figure><img src="{html.escape(png)}" alt="{html.escape(qt)}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")  # fmt: skip
        sections.append(f"<section><h2>{html.escape(run.name)}</h2>{''.join(items)}</section>")
    tmp = out / "analysis.json.tmp"
    tmp.write_text(json.dumps(report, indent=1, sort_keys=True))
    os.replace(tmp, out / "analysis.json")
    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error analysis</title>'
            "<style>body{font-family:sans-serif}figure{display:inline-block;margin:8px}img{max-width:900px}</style>"
            f"</head><body><h1>Error analysis</h1>{''.join(sections)}</body></html>")  # fmt: skip
    tmp = out / "index.html.tmp"
    tmp.write_text(page)
    os.replace(tmp, out / "index.html")
    return out / "index.html"
