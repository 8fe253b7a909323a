"""Benchmark: ``spatial-r1 audit`` (no ``--scannet``) on 100 k rows vs just parsing the file's JSON lines.

Run: ``python benchmarks/audit.py [--rows 100000] [--format vsibench|video-r1] [--seed 0]``.

Writes a file of ``--rows`` template questions (nine question types, 80 categories, 3 000 ScanNet-style scenes of
which some are VSI-Bench / ScanNet-val scenes, numerical answers that follow the category, letters balanced), then
times in this one run: the reference (``json.loads`` of every line: the least any reader does), reading + format
detection, leakage, sanity, bias, and the whole :func:`~spatial_r1_eval.audit.report.audit_file`. Prints wall and
CPU seconds (the CPU figure is the one to read on a loaded machine), the ratio to the reference and the peak
resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def _rows(n: int, seed: int, fmt: str) -> list[dict]:
    from spatial_r1_eval.generation.templates import DIRECTION_CHOICES, TEMPLATES

    rng = np.random.default_rng(seed)
    cats = [f"item{i}" for i in range(80)]
    size_of = rng.integers(20, 300, len(cats))
    scenes = [f"scene{i:04d}_{j:02d}" for i in range(1000) for j in range(3)]
    types = [t for t in TEMPLATES]
    out = []
    for k in range(n):
        qt = types[k % len(types)]
        scene = scenes[int(rng.integers(len(scenes)))]
        c = [cats[i] for i in rng.choice(len(cats), 5, replace=False)]
        fields = dict(category=c[0], object1=c[0], object2=c[1], choice_a=c[1], choice_b=c[2], choice_c=c[3],
                      choice_d=c[4], positioning=c[0], orienting=c[1], querying=c[2])  # fmt: skip
        question = TEMPLATES[qt].format(**{f: v for f, v in fields.items() if "{" + f + "}" in TEMPLATES[qt]})
        options: list[str] = []
        if qt == "object_counting":
            truth = str(int(rng.integers(2, 9)))
        elif qt == "object_size_estimation":
            truth = str(int(size_of[cats.index(c[0])] * rng.uniform(0.9, 1.1)))
        elif qt in ("room_size_estimation", "object_abs_distance"):
            truth = f"{rng.uniform(0.5, 40.0):.1f}"
        else:
            texts = list(DIRECTION_CHOICES.get(qt, c[1:5]))
            letter = int(rng.integers(len(texts)))
            options = [f"{'ABCD'[i]}. {t}" for i, t in enumerate(texts)]
            truth = "ABCD"[letter]
        if fmt == "vsibench":
            out.append({"id": k, "dataset": "scannet", "scene_name": scene, "question_type": qt, "question": question,
                        "options": options or None, "ground_truth": truth})  # fmt: skip
        else:
            out.append({"problem_id": k, "problem": question, "problem_type": "numerical" if not options else
                        "multiple choice", "options": options, "solution": f"<answer>{truth}</answer>",
                        "path": f"./SR/videos/scannet/{scene}.mp4", "data_type": "video"})  # fmt: skip
    return out


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", default="vsibench", choices=("vsibench", "video-r1"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import sklearn.linear_model  # noqa: F401 - imported before timing (the import alone takes seconds)

    from spatial_r1_eval.audit.bias import check_bias
    from spatial_r1_eval.audit.leakage import check_leakage
    from spatial_r1_eval.audit.readers import read_rows
    from spatial_r1_eval.audit.report import audit_file
    from spatial_r1_eval.audit.sanity import check_sanity

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in _rows(args.rows, args.seed, args.format)))
        size_mb = os.path.getsize(path) / 2**20

        def parse_only():
            with path.open() as f:
                return [json.loads(line) for line in f]

        _, ref_w, ref_c = _timed(parse_only)
        (fmt, rows), read_w, read_c = _timed(lambda: read_rows(path))
        leak, leak_w, leak_c = _timed(lambda: check_leakage(rows))
        sanity, san_w, san_c = _timed(lambda: check_sanity(rows))
        bias, bias_w, bias_c = _timed(lambda: check_bias(rows, set(sanity["bad_lines"])))
        report, all_w, all_c = _timed(lambda: audit_file(path))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    flagged = report["summary"]["biased_types"]
    print(f"rows: {len(rows):,} ({fmt}, {size_mb:.1f} MiB); leaking rows {leak['leaking_rows']:,}, "
          f"rows with issues {sanity['rows_with_issues']:,}, flagged types {flagged}")  # fmt: skip
    print(f"{'step':28s} {'wall s':>8s} {'CPU s':>8s} {'CPU / reference':>16s}")
    for name, w, c in [("reference: json.loads lines", ref_w, ref_c), ("read + detect + normalise", read_w, read_c),
                       ("leakage", leak_w, leak_c), ("sanity", san_w, san_c), ("bias (chance + 5-fold CV)", bias_w,
                       bias_c), ("audit_file (all of it)", all_w, all_c)]:  # fmt: skip
        print(f"{name:28s} {w:8.2f} {c:8.2f} {c / ref_c:15.1f}x")
    print(f"bias types cross-validated on <= 2000 rows each: {sorted(bias)}")
    print(f"peak resident memory: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
