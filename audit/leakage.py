"""Test leakage: rows whose scene is one of VSI-Bench's 288 scenes or one of the 312 ScanNet v2 validation scenes.

VSI-Bench's scenes come from the validation splits of ScanNet, ScanNet++ and ARKitScenes, so training on any of
them (another question about the same room is enough) inflates the benchmark score; the ScanNet v2 validation
split is the usual held-out set of ScanNet work. Each row's scene is matched against
:func:`~spatial_r1_eval.generation.scene_lists.vsibench_scenes` per dataset, and against ``scannet-val``.

>>> from spatial_r1_eval.audit.readers import AuditRow
>>> rows = [AuditRow(0, 1, "0", "scene0025_01", "scannet", None, False, "q", [], "", None),
...         AuditRow(1, 2, "1", "scene9000_00", "scannet", None, False, "q", [], "", None)]
>>> rep = check_leakage(rows)
>>> rep["vsibench"]["rows"], rep["vsibench"]["per_dataset"]["scannet"]["scenes"], rep["scannet_val"]["rows"]
(1, ['scene0025_01'], 1)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from spatial_r1_eval.audit.readers import AuditRow
from spatial_r1_eval.generation.scene_lists import VSIBENCH_DATASETS, builtin_scene_list, vsibench_scenes


def _block(hits: dict[str, list[int]], dataset: str | None = None) -> dict[str, Any]:
    return {
        "rows": sum(len(v) for v in hits.values()),
        "scenes": sorted(hits),
        "lines": sorted(line for lines in hits.values() for line in lines),
        **({} if dataset is None else {"dataset": dataset}),
    }


def check_leakage(rows: Sequence[AuditRow]) -> dict[str, Any]:
    """Leakage report: for VSI-Bench (total and per dataset) and the ScanNet v2 validation split, the number of
    leaking rows, the leaking scenes and the rows' line numbers; plus ``rows_without_scene``.

    A scene matches VSI-Bench when its name is in the list of the row's dataset; a row without a dataset (a scene
    name of unknown shape) matches any of the three lists.
    """
    vsi = vsibench_scenes()
    val = frozenset(builtin_scene_list("scannet-val"))
    per_dataset: dict[str, dict[str, list[int]]] = {d: defaultdict(list) for d in VSIBENCH_DATASETS}
    val_hits: dict[str, list[int]] = defaultdict(list)
    no_scene = 0
    for r in rows:
        if r.scene is None:
            no_scene += 1
            continue
        datasets = [r.dataset] if r.dataset in vsi else VSIBENCH_DATASETS
        for d in datasets:
            if r.scene in vsi[d]:
                per_dataset[d][r.scene].append(r.line)
                break
        if r.scene in val:
            val_hits[r.scene].append(r.line)
    total: dict[str, list[int]] = defaultdict(list)
    for hits in per_dataset.values():
        for scene, lines in hits.items():
            total[scene].extend(lines)
    vsi_block = _block(total)
    vsi_block["per_dataset"] = {d: {**_block(per_dataset[d]), "of": len(vsi[d])} for d in VSIBENCH_DATASETS}
    for block in vsi_block["per_dataset"].values():
        del block["lines"]  # listed once, in the total
    return {
        "vsibench": vsi_block,
        "scannet_val": {**_block(val_hits), "of": len(val)},
        "rows_without_scene": no_scene,
        "leaking_rows": len({*vsi_block["lines"], *(ln for v in val_hits.values() for ln in v)}),
    }
