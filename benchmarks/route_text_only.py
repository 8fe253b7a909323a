"""Audit: can a text-only model beat the frequency baseline on route-planning questions? (no video, no geometry)

Run: ``.venv/bin/python benchmarks/route_text_only.py SR.jsonl [VSI-Bench test.jsonl ...]`` — for each file's
``route_planning`` rows prints the accuracy of chance (1 / options); of the frequency baseline (per option set
signature = number of options + whether the route starts with a turn: the most frequent correct answer text
among the offered options), fitted on the training folds and on all rows (its upper bound); and of a logistic
regression on the question and option texts (TF-IDF words 1-2, 5-fold cross-validation grouped by scene: it
picks the offered option of highest probability). Needs scikit-learn.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

import numpy as np


def _answer(rec: dict) -> tuple[list[str], str]:
    options = [str(o).partition(". ")[2].strip() for o in rec["options"]]
    letters = [str(o).partition(". ")[0].strip() for o in rec["options"]]
    return options, options[letters.index(str(rec["ground_truth"]).strip())]


def _signature(rec: dict) -> tuple[int, bool]:
    steps = rec["question"].split("'turn right.'): ", 1)[-1]
    return len(rec["options"]), steps.lstrip().startswith("1. [")


def audit(records: list[dict]) -> dict[str, float]:
    """Accuracies of chance, the frequency baseline and the text-only logistic model (module docstring)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    rows = [r for r in records if r["question_type"] == "route_planning"]
    opts, truth = zip(*(_answer(r) for r in rows), strict=True)
    texts = [r["question"] + " || " + " | ".join(o) for r, o in zip(rows, opts, strict=True)]
    groups = [r.get("scene_name", "") for r in rows]
    chance = float(np.mean([1.0 / len(o) for o in opts]))
    freq_hits, lr_hits = np.zeros(len(rows)), np.zeros(len(rows))
    folds = GroupKFold(n_splits=min(5, len(set(groups))))
    for train, test in folds.split(texts, groups=groups):
        by_sig: dict[tuple, Counter] = defaultdict(Counter)
        overall: Counter = Counter(truth[i] for i in train)
        for i in train:
            by_sig[_signature(rows[i])][truth[i]] += 1
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        x_train = vec.fit_transform([texts[i] for i in train])
        model = LogisticRegression(max_iter=2000, C=1.0).fit(x_train, [truth[i] for i in train])
        classes = list(model.classes_)
        proba = model.predict_proba(vec.transform([texts[i] for i in test]))
        for row, i in enumerate(test):
            counts = by_sig.get(_signature(rows[i]), overall)
            freq = max(opts[i], key=lambda o, c=counts: (c[o], overall[o]))
            freq_hits[i] = freq == truth[i]
            score = {o: (proba[row, classes.index(o)] if o in classes else -1.0) for o in opts[i]}
            lr_hits[i] = max(opts[i], key=score.get) == truth[i]
    by_sig_all: dict[tuple, Counter] = defaultdict(Counter)  # the baseline fitted on all rows (its upper bound)
    for r, t in zip(rows, truth, strict=True):
        by_sig_all[_signature(r)][t] += 1
    in_sample = np.mean([max(o, key=lambda x, c=by_sig_all[_signature(r)]: c[x]) == t
                         for r, o, t in zip(rows, opts, truth, strict=True)])  # fmt: skip
    never_back = []
    for r, o in zip(rows, opts, strict=True):
        if not _signature(r)[1]:  # starts with "Go forward": does dropping the options with Back leave fewer?
            never_back.append(sum("Back" not in x for x in o))
    return {
        "questions": len(rows),
        "chance": chance,
        "frequency": float(freq_hits.mean()),
        "frequency_in_sample": float(in_sample),
        "text_only_logistic": float(lr_hits.mean()),
        "advantage": float(lr_hits.mean() - freq_hits.mean()),
        "advantage_over_in_sample_frequency": float(lr_hits.mean() - in_sample),
        "forward_first_options_left_without_back": float(np.mean(never_back)) if never_back else float("nan"),
        "forward_first_options": float(
            np.mean([len(o) for r, o in zip(rows, opts, strict=True) if not _signature(r)[1]] or [float("nan")])
        ),  # fmt: skip
    }


def main(paths: list[str]) -> None:
    for path in paths:
        with open(path, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        res = audit(records)
        print(path)  # noqa: T201 (benchmark output)
        for k, v in res.items():
            print(f"  {k:42s} {v:.3f}" if isinstance(v, float) else f"  {k:42s} {v}")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1:])
