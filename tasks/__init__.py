"""lmms-eval tasks shipped with spatial-r1-eval: pass this folder to ``lmms-eval --include_path``.

The folder is :func:`tasks_dir` (also printed by ``spatial-r1 eval --print-include-path``). Beside the task folders it
holds the lmms-eval glue they share: :mod:`~spatial_r1_eval.tasks.hooks` (document loading, ``doc_to_*`` and
``process_results`` hooks, aggregation), :mod:`~spatial_r1_eval.tasks.models` (the chance models, registered through
the ``lmms_eval.models`` entry point) and :mod:`~spatial_r1_eval.tasks.baselines` (their logic). Everything scores
through the core (:mod:`spatial_r1_eval.scoring`, :mod:`spatial_r1_eval.aggregation`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["tasks_dir"]


def tasks_dir() -> Path:
    """The folder holding our lmms-eval task YAMLs (pass it to ``lmms-eval --include_path``).

    >>> (tasks_dir() / "sr" / "sr.yaml").is_file()
    True
    """
    return Path(__file__).resolve().parent
