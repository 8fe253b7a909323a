"""lmms-eval models of spatial-r1-eval, registered through the ``lmms_eval.models`` entry-point group.

``pyproject.toml`` declares ``spatial_r1 = "spatial_r1_eval.tasks.models:model_manifests"``, so after
installing the package ``lmms-eval --model chance_frequency`` (or ``chance_random``) works with no plugin
setting. Both models read the evaluated question documents through ``self.task_dict`` (lmms-eval fills it
with each task's processed dataset before generation) and never load a video: run them on the ``_blind``
task variants. Their logic lives in :mod:`spatial_r1_eval.tasks.baselines`.

Model arguments (``--model_args``): ``chance_random``: ``seed`` (default 0). ``chance_frequency``: none.

This module imports lmms-eval only when a model class is first used, so importing it is cheap.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_CLASSES: dict[str, type] = {}


def model_manifests() -> list[Any]:
    """The ``ModelManifest`` entries lmms-eval loads from our entry point.

    >>> sorted(m.model_id for m in model_manifests())
    ['chance_frequency', 'chance_random']
    """
    from lmms_eval.models.registry_v2 import ModelManifest

    return [
        ModelManifest(model_id="chance_random", simple_class_path=f"{__name__}.ChanceRandom"),
        ModelManifest(model_id="chance_frequency", simple_class_path=f"{__name__}.ChanceFrequency"),
    ]


def _build_classes() -> dict[str, type]:
    if _CLASSES:
        return _CLASSES
    from collections import defaultdict

    from lmms_eval.api.model import lmms

    from spatial_r1_eval.tasks.baselines import fit_frequency, frequency_prediction, random_prediction

    class _ChanceModel(lmms):
        """Base of the chance models: answers from the question documents alone (no video, no weights)."""

        is_simple = True

        def __init__(self, **kwargs: Any) -> None:
            super().__init__()
            unknown = sorted(set(kwargs) - self._ARGS)
            if unknown:
                raise ValueError(f"{type(self).__name__}: unknown model argument(s) {', '.join(unknown)}")

        _ARGS: frozenset[str] = frozenset({"batch_size", "max_batch_size", "device", "device_map"})

        def _docs(self, request: Any) -> tuple[str, str, int, dict[str, Any]]:
            args = request.args
            doc_id, task, split = args[-3], args[-2], args[-1]
            return task, split, doc_id, self.task_dict[task][split][doc_id]

        def _answer_group(self, docs: list[dict[str, Any]], task: str) -> list[str]:
            raise NotImplementedError

        def generate_until(self, requests: list[Any]) -> list[str]:
            groups: dict[tuple[str, str], list[int]] = defaultdict(list)
            located = [self._docs(r) for r in requests]
            for i, (task, split, _, _) in enumerate(located):
                groups[(task, split)].append(i)
            out = [""] * len(requests)
            for (task, _), indices in groups.items():
                answers = self._answer_group([located[i][3] for i in indices], task)
                for i, answer in zip(indices, answers, strict=True):
                    out[i] = answer
                    self.cache_hook.add_partial("generate_until", requests[i].args[:2], answer)
            return out

        def loglikelihood(self, requests: list[Any]) -> list[tuple[float, bool]]:
            raise NotImplementedError(f"{type(self).__name__} only answers generate_until tasks")

        def generate_until_multi_round(self, requests: list[Any]) -> list[str]:
            raise NotImplementedError(f"{type(self).__name__} only answers single-round tasks")

    class ChanceRandom(_ChanceModel):
        """Uniformly random option letter per question (seeded); empty answer for numerical questions."""

        _ARGS = _ChanceModel._ARGS | {"seed"}

        def __init__(self, seed: int | str = 0, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            try:
                self.seed = int(seed)
            except ValueError:
                raise ValueError(f"chance_random: --model_args seed must be an integer, got {seed!r}") from None

        def _answer_group(self, docs: list[dict[str, Any]], task: str) -> list[str]:
            return [random_prediction(d, self.seed, key=f"{task}/{d.get('id')}") for d in docs]

    class ChanceFrequency(_ChanceModel):
        """Most frequent answer per question type, fitted on the evaluated questions themselves."""

        def _answer_group(self, docs: list[dict[str, Any]], task: str) -> list[str]:
            fitted = fit_frequency(docs)
            for qt, answer in fitted.items():
                logger.info("%s: frequency answer for %s = %s %r (fitted %.4f)", task, qt, *answer.__dict__.values())
            return [frequency_prediction(d, fitted) for d in docs]

    _CLASSES.update(ChanceRandom=ChanceRandom, ChanceFrequency=ChanceFrequency)
    return _CLASSES


def __getattr__(name: str) -> type:
    if name in ("ChanceRandom", "ChanceFrequency"):
        return _build_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
