"""Answer bias: how well a blind predictor answers each question type from the text alone.

Per question type (rows with a usable answer only):

* **chance** — the ``chance_frequency`` baseline (:func:`spatial_r1_eval.tasks.baselines.fit_frequency`) fitted on the
  file itself;
* **text only** — a k-fold cross-validated (seeded, stratified when possible) scikit-learn model on binary
  hashed word 1-2-grams of the question (and, when the option sets differ per question, of the options
  tagged with their letter): a logistic regression predicting the answer *text* for closed answer sets
  (direction levels) or the *letter* otherwise, a ridge regression of ``log(answer)`` for numerical types. Each
  fold's model sees only its training folds; its predictions on the held-out fold are scored.

Both are scored with the core metrics (:func:`~spatial_r1_eval.metrics.nar` / :func:`~spatial_r1_eval.metrics.mar`)
on their answers, which are bare numbers or letters. Types with more than ``max_rows`` rows are cross-validated
on a seeded sample of that size (and compared with chance on the same sample).

A type is **flagged** when the text-only score beats chance by more than ``margin`` (default 0.05 = 5 points)
with at least ``min_rows`` rows — the test-set stress test behind VSI-Bench-Debiased: such a type's answers can
be learnt without looking at the video. A text-only score *below* chance means the model found no usable signal
in the text and over-fitted it (typical for the direction levels, whose questions say nothing about the answer);
only gains are flagged.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from spatial_r1_eval.audit.readers import AuditRow
from spatial_r1_eval.metrics import mar, nar
from spatial_r1_eval.questions import is_numerical
from spatial_r1_eval.tasks.baselines import fit_frequency, format_number, frequency_prediction, option_text

logger = logging.getLogger(__name__)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _documents(rows: Sequence[AuditRow], with_options: bool) -> list[str]:
    docs = []
    for r in rows:
        text = r.question
        if with_options:
            text += " " + " ".join(
                f"opt{_LETTERS[i]}_{w}" for i, o in enumerate(r.options) for w in option_text(o).lower().split()
            )
        docs.append(text)
    return docs


def _folds(y: np.ndarray, k: int, seed: int, classify: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    if classify and np.unique(y, return_counts=True)[1].min() >= k:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def _score(predictions: Sequence[str], rows: Sequence[AuditRow]) -> float:
    """Mean score of answer texts (bare letters or numbers) through the core metrics: NAR or MAR by type."""
    if is_numerical(rows[0].question_type or ""):
        return float(np.mean(nar(np.array([float(p) for p in predictions]), [float(r.ground_truth) for r in rows])))
    return float(np.mean(mar(list(predictions), [r.ground_truth for r in rows])))


def _features(docs: list[str]) -> Any:
    """Binary hashed word 1-2-gram features, restricted to the columns that occur (stateless: computed
    once for every fold, nothing learnt from the answers)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vec = HashingVectorizer(
        ngram_range=(1, 2),
        n_features=2**22,
        alternate_sign=False,
        binary=True,
        norm=None,
        token_pattern=r"(?u)\b\w+\b",
    )
    x = vec.transform(docs).tocsc()
    return x[:, np.flatnonzero(np.diff(x.indptr))].tocsr()


def _cv_predict(x: Any, y: np.ndarray, kind: str, k: int, seed: int) -> np.ndarray:
    """Out-of-fold predictions of the text model (labels, or log-values for ``kind == "number"``)."""
    from sklearn.linear_model import LogisticRegression, Ridge

    out = np.empty(len(y), dtype=y.dtype)
    classify = kind != "number"
    for train, test in _folds(y, k, seed, classify):
        if classify and len(np.unique(y[train])) == 1:
            out[test] = y[train][0]
            continue
        model = LogisticRegression(C=1.0, max_iter=100, tol=1e-3) if classify else Ridge(alpha=1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings of a 100-iteration fit
            model.fit(x[train], y[train])
        out[test] = model.predict(x[test])
    return out


def _text_predictions(rows: Sequence[AuditRow], kind: str, k: int, seed: int) -> list[str]:
    """The text model's held-out answers (letters or numbers as answer text), one per row."""
    if kind == "number":
        values = np.array([float(r.ground_truth) for r in rows])
        pred = np.exp(_cv_predict(_features(_documents(rows, False)), np.log(values), kind, k, seed))
        # integer answers (counts, centimetres) get integer predictions
        pred = np.round(pred) if np.all(values == np.round(values)) else np.round(pred, 3)
        return [format_number(float(v)) for v in pred]
    if kind == "text":
        y = np.array([r.answer_text() for r in rows], dtype=object).astype(str)
        pred = _cv_predict(_features(_documents(rows, False)), y, kind, k, seed)
        letters = []
        for r, text in zip(rows, pred, strict=True):
            texts = [option_text(o) for o in r.options]
            letters.append(_LETTERS[texts.index(text)] if text in texts else "A")
        return letters
    y = np.array([r.ground_truth.upper() for r in rows])
    return list(_cv_predict(_features(_documents(rows, True)), y, kind, k, seed))


def check_bias(
    rows: Sequence[AuditRow],
    bad_lines: set[int] | frozenset[int] = frozenset(),
    *,
    folds: int = 5,
    seed: int = 0,
    margin: float = 0.05,
    min_rows: int = 50,
    max_rows: int | None = 2_000,
) -> dict[str, Any]:
    """Bias report per question type: ``{rows, chance, chance_answer, text_only, gain, flagged, model}``.

    Args:
        rows: The rows (rows of unknown type and those in ``bad_lines`` are left out).
        bad_lines: Lines whose answers are unusable (:func:`~spatial_r1_eval.audit.sanity.check_sanity`).
        folds: k of the k-fold cross-validation.
        seed: Seed of the fold split and of the row sample.
        margin: Gain over chance (0-1 scale) above which a type is flagged.
        min_rows: Types with fewer rows get chance only (no cross-validated model, never flagged).
        max_rows: Cross-validate on a seeded sample of at most this many rows per type (``None``: all).

    Raises:
        ValueError: ``folds < 2`` or a ``margin`` outside [0, 1].
    """
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    if not 0 <= margin <= 1:
        raise ValueError(f"margin must be in [0, 1] (a score difference), got {margin}")
    by_type: dict[str, list[tuple[AuditRow, dict[str, Any]]]] = defaultdict(list)
    for r in rows:
        if r.question_type is not None and r.line not in bad_lines:
            by_type[r.question_type].append((r, r.record()))
    fitted = fit_frequency(rec for group in by_type.values() for _, rec in group)
    logging.getLogger("numexpr.utils").setLevel(logging.WARNING)  # its thread-count notice, via pandas
    import sklearn.linear_model  # noqa: F401 - load its OpenMP/BLAS libraries before limiting their threads
    from threadpoolctl import threadpool_limits

    report: dict[str, Any] = {}
    with threadpool_limits(1):  # many small fits: BLAS threads only oversubscribe (measured 50x slower on 2 cores)
        for qt in sorted(by_type):
            report[qt] = _type_report(by_type[qt], fitted, folds=folds, seed=seed, margin=margin, min_rows=min_rows,
                                      max_rows=max_rows)  # fmt: skip
    return report


def _type_report(
    pairs: list[tuple[AuditRow, dict[str, Any]]],
    fitted: dict,
    *,
    folds: int,
    seed: int,
    margin: float,
    min_rows: int,
    max_rows: int | None,
) -> dict[str, Any]:
    group = [r for r, _ in pairs]
    qt = group[0].question_type
    answer = fitted[qt]
    chance_answers = [frequency_prediction(rec, fitted) for _, rec in pairs]
    chance = _score(chance_answers, group)
    entry: dict[str, Any] = {
        "rows": len(group),
        "chance": chance,
        "chance_answer": f"{answer.kind} {answer.value}",
        "model": {"number": "ridge(log answer)", "text": "logistic(answer text)"}.get(answer.kind, "logistic(letter)"),
        "text_only": None,
        "gain": None,
        "flagged": False,
    }
    if len(group) < max(min_rows, 2 * folds):
        return entry
    sample = group
    if max_rows is not None and len(group) > max_rows:
        pick = np.sort(np.random.default_rng(seed).choice(len(group), max_rows, replace=False))
        sample = [group[i] for i in pick]
        chance = _score([chance_answers[i] for i in pick], sample)
        entry["chance_on_sample"] = chance  # compared with the text model on the same rows
    preds = _text_predictions(sample, answer.kind, folds, seed)
    text_score = _score(preds, sample)
    entry.update(text_only=text_score, gain=text_score - chance, flagged=text_score - chance > margin)
    entry["cv_rows"] = len(sample)
    return entry
