"""Leaderboard on folders written by REAL lmms-eval CLI runs (offline, CPU, a few seconds each).

The runs use lmms-eval's built-in ``dummy`` model (a fixed answer) on a task whose scoring and aggregation are
lmms-eval's own built-in ``vsibench`` functions (``lmms_eval.tasks.vsibench.utils``), over a small set of
synthetic questions in the VSI-Bench record format. So the ``*_results.json`` and ``*_samples_<task>.jsonl``
files are exactly what the built-in ``vsibench`` writes; only the questions are local (no hub access here).
Table values are checked against an independent pandas computation from the raw sample lines.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spatial_r1_eval.leaderboard import render_runs
from spatial_r1_eval.leaderboard.runs import COLUMNS, read_runs
from spatial_r1_eval.leaderboard.stats import bootstrap_ci

vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")
load_yaml_config = pytest.importorskip("lmms_eval.utils").load_yaml_config

pytestmark = pytest.mark.slow

VENV_BIN = Path(sys.executable).parent
#: The question types and metric names of lmms-eval's own built-in vsibench task (its utils.py lists and the
#: metric_list of its YAML, read by lmms-eval's loader), not copies of ours.
_BUILTIN = Path(vsb.__file__).parent
TYPES = tuple(vsb.MCA_QUESTION_TYPES) + tuple(vsb.NA_QUESTION_TYPES)
NUMERICAL = frozenset(vsb.NA_QUESTION_TYPES)
METRICS = tuple(m["metric"] for m in load_yaml_config(str(_BUILTIN / "vsibench.yaml"), mode="simple")["metric_list"])
CHANCE = ("chance_random", "chance_frequency")


def _write_task(root: Path, questions: Path) -> Path:
    task_dir = root / "task"
    task_dir.mkdir()
    metric_lines = "".join(
        f"  - metric: {m}\n    aggregation: !function utils.vsibench_aggregate_"
        f"{'overall' if m == 'vsibench_overall' else m}\n    higher_is_better: true\n"
        for m in METRICS
    )
    (task_dir / "vsibench_local.yaml").write_text(
        "task: vsibench_local\n"
        "dataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {questions}\n"
        "test_split: test\n"
        "output_type: generate_until\n"
        "doc_to_visual: !function utils.doc_to_visual\n"
        "doc_to_text: !function utils.vsibench_doc_to_text\n"
        'doc_to_target: "ground_truth"\n'
        "generation_kwargs:\n  max_new_tokens: 16\n  temperature: 0\n  do_sample: false\n"
        "process_results: !function utils.vsibench_process_results\n"
        f"metric_list:\n{metric_lines}"
        "lmms_eval_specific_kwargs:\n  default:\n    pre_prompt: ''\n"
        '    mca_post_prompt: "Answer with the option\'s letter from the given choices directly."\n'
        "    na_post_prompt: 'Please answer the question using a single word or phrase.'\n"
    )
    # Blind mode (no videos here); everything else is the built-in vsibench code.
    (task_dir / "utils.py").write_text(
        "from lmms_eval.tasks.vsibench.utils import *  # noqa: F403\n\n\ndef doc_to_visual(doc):\n    return []\n"
    )
    return task_dir


def _write_questions(path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for t in TYPES:
        for k in range(6):
            if t in NUMERICAL:
                gt = str(int(rng.integers(2, 6))) if t == "object_counting" else f"{rng.uniform(1.5, 5.0):.1f}"
                options = []
            else:
                gt = "ABCD"[int(rng.integers(0, 4))]
                options = [f"{c}. option {c}" for c in "ABCD"]
            rows.append(
                {
                    "id": len(rows),
                    "dataset": "scannet",
                    "scene_name": f"scene{k:04d}_00",
                    "question_type": t,
                    "question": f"Question {len(rows)} about {t}?",
                    "options": options,
                    "ground_truth": gt,
                }
            )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_HOME=str(tmp / "hf"),
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


def _lmms_eval(root: Path, out_dir: Path, model: str, model_args: str, task: str, include: Path, **env) -> Path:
    cmd = [
        str(VENV_BIN / "lmms-eval"),
        "--model", model,
        "--tasks", task,
        "--include_path", str(include),
        "--output_path", str(out_dir),
        "--log_samples",
        "--batch_size", "1",
    ]  # fmt: skip
    if model_args:
        cmd += ["--model_args", model_args]
    proc = subprocess.run(cmd, cwd=root, env={**_env(root), **env}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out_dir


@pytest.fixture(scope="module")
def lmms_runs(tmp_path_factory) -> dict[str, Path]:
    """Three real lmms-eval output folders (``--log_samples``) over the same 60 questions, four task rows.

    ``dummy``: lmms-eval's ``dummy`` model (always "A") on two tasks in one call (one results file, two tasks):
    ``vsibench_local``, scored by the built-in ``vsibench`` code, and our ``vsibench_direct_blind``;
    ``chance_random`` / ``chance_frequency``: our baseline models on ``vsibench_direct_blind``
    (``$VSIBENCH_DIR`` points at the same questions).
    """
    from spatial_r1_eval.tasks import tasks_dir

    root = tmp_path_factory.mktemp("lmms_eval_runs")
    vsibench_dir = root / "vsibench"
    vsibench_dir.mkdir()
    questions = vsibench_dir / "test.jsonl"
    _write_questions(questions)
    include = _write_task(root, questions)
    shutil.copytree(tasks_dir(), include / "ours", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"VSIBENCH_DIR": str(vsibench_dir)}
    return {
        "dummy": _lmms_eval(root, root / "dummy", "dummy", "", "vsibench_local,vsibench_direct_blind", include, **env),
        **{m: _lmms_eval(root, root / m, m, "", "vsibench_direct_blind", include, **env) for m in CHANCE},
    }


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "spatial-r1"), "leaderboard", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def _independent_scores(samples_file: Path) -> dict[str, float]:
    """Task and overall scores straight from the raw sample lines (pandas; VSI-Bench's definition)."""
    rows = []
    for line in samples_file.read_text().splitlines():
        doc = json.loads(line)["vsibench_overall"]
        score = next(doc[k] for k in ("score", "accuracy", "MRA:.5:.95:.05") if k in doc)
        rows.append((doc["question_type"], float(score)))
    df = pd.DataFrame(rows, columns=["qt", "score"])
    per_type = df.groupby("qt")["score"].mean()
    out = {t: per_type[t] for t in TYPES if not t.startswith("object_rel_direction")}
    out["object_rel_direction"] = per_type[[t for t in TYPES if t.startswith("object_rel_direction")]].mean()
    out["overall"] = np.mean(list(out.values()))
    return out


NAMES = [
    "dummy (vsibench_direct_blind)",
    "dummy (vsibench_local)",
    "chance_random (vsibench_direct_blind)",
    "chance_frequency (vsibench_direct_blind)",
]


def test_lmms_eval_layout_is_what_the_reader_expects(lmms_runs):
    # lmms-eval 0.7.3: no pretrained= -> empty model_name_sanitized -> files directly in --output_path
    for out_dir in lmms_runs.values():
        results = sorted(out_dir.rglob("*_results.json"))
        assert len(results) == 1 and results[0].parent == out_dir
        date_id = results[0].name[: -len("_results.json")]
        tasks = sorted(json.loads(results[0].read_text())["results"])
        samples = sorted(p.name for p in out_dir.rglob("*_samples_*.jsonl"))
        assert samples == [f"{date_id}_samples_{t}.jsonl" for t in tasks]


def test_reader_reads_every_run(lmms_runs):
    runs = read_runs(lmms_runs.values())
    assert [r.name for r in runs] == NAMES
    for r in runs:
        assert r.task in ("vsibench_local", "vsibench_direct_blind") and r.n_questions == 60
        assert len(r.samples) == 60 and set(r.samples.question_types) == set(TYPES)
        assert sorted(r.samples.question_ids, key=int) == [str(i) for i in range(60)]
        assert r.notes == []  # each results JSON agrees with its own samples (built-in and our aggregation)


def test_table_values_match_independent_computation(lmms_runs):
    csv_text = render_runs(lmms_runs.values(), fmt="csv")
    table = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False).set_index("model")
    assert list(table.index) == NAMES
    runs = read_runs(lmms_runs.values())
    for run in runs:
        expected = _independent_scores(run.samples.path)
        results = json.loads(run.results_path.read_text())["results"][run.task]
        assert results["vsibench_overall,none"] == pytest.approx(expected["overall"], abs=1e-6)
        for column in COLUMNS:
            assert table.loc[run.name, column] == f"{100 * expected[column]:.1f}", (run.name, column)
    # same answers, two scorers (ours and lmms-eval's built-in vsibench): the same row
    ours, builtin, rnd, freq = (table.loc[n] for n in NAMES)
    assert list(ours) == list(builtin)
    # the runs really differ: letters score only multiple choice, the frequency baseline numerical questions too
    assert ours["object_counting"] == "0.0" and rnd["object_counting"] == "0.0"
    assert float(freq["object_counting"]) > 0 and float(ours["overall"]) > 0


def test_cli_markdown_with_reference_baseline_and_ci(lmms_runs):
    proc = _cli(str(lmms_runs["dummy"]), "--reference", "spatial-r1-table1", "--baseline", "Spatial-R1", "--ci")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "| Spatial-R1 [baseline]" in out and "| dummy (vsibench_local)" in out
    assert "Chance Level (Frequency)" in out and "LongVILA-8B" in out
    assert "Spatial-R1: Overall 41.8 is not the mean of its 8 task columns (40.20)" in out
    assert "95% bootstrap CI" in out
    # the CI row of a run brackets its point estimate, and equals a direct bootstrap_ci call (same seed)
    run = read_runs([lmms_runs["dummy"]])[1]
    ci = bootstrap_ci(run.samples.question_types, run.samples.scores, n_boot=2000, seed=0)["overall"]
    assert f"[{100 * ci.low:.1f}, {100 * ci.high:.1f}]" in out
    assert ci.low <= run.scores["overall"] <= ci.high


def test_cli_compare_and_files(lmms_runs, tmp_path):
    a, b = str(lmms_runs["chance_random"]), str(lmms_runs["chance_frequency"])
    html_path, plot_path, radar_path = tmp_path / "lb.html", tmp_path / "lb.png", tmp_path / "radar.png"
    args = [*map(str, lmms_runs.values()), "--html", str(html_path), "--plot", str(plot_path)]
    args += ["--radar", str(radar_path), "--compare", a, b, "--n-boot", "500"]
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr
    run_a, run_b = read_runs([a, b])
    delta = 100 * (run_b.scores["overall"] - run_a.scores["overall"])
    line = next(x for x in proc.stdout.splitlines() if x.startswith("| Overall"))
    assert f"| {delta:+.1f} " in line
    # a paired comparison by row name across tasks scored by different code (same question ids)
    proc = _cli(*map(str, lmms_runs.values()), "--compare", NAMES[0], NAMES[3], "--n-boot", "500")
    assert proc.returncode == 0 and "chance_frequency (vsibench_direct_blind) vs dummy" in proc.stdout
    from PIL import Image

    for p in (plot_path, radar_path):
        with Image.open(p) as im:
            im.load()
            assert im.format == "PNG" and im.width > 600 and im.height > 400

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.text = [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)

        def handle_data(self, data):
            self.text.append(data)

    parser = Cells()
    parser.feed(html_path.read_text())
    text = " ".join(parser.text)
    assert all(name in text for name in NAMES) and "Paired bootstrap" in text
    assert "svg" in parser.tags and "script" in parser.tags
    # same inputs -> byte-identical outputs
    first = html_path.read_bytes(), plot_path.read_bytes()
    assert _cli(*args).returncode == 0
    assert (html_path.read_bytes(), plot_path.read_bytes()) == first


def test_cli_one_line_errors(lmms_runs, tmp_path):
    proc = _cli(str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "not an lmms-eval output folder" in proc.stderr and str(tmp_path) in proc.stderr
    # a damaged samples log: error names the file and line
    broken = tmp_path / "broken"
    src = next(lmms_runs["chance_random"].rglob("*_results.json"))
    broken.mkdir()
    (broken / src.name).write_bytes(src.read_bytes())
    samples = next(lmms_runs["chance_random"].rglob("*_samples_*.jsonl"))
    lines = samples.read_text().splitlines()
    lines[3] = lines[3][:40]
    (broken / samples.name).write_text("\n".join(lines) + "\n")
    proc = _cli(str(broken))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert samples.name in proc.stderr and ":4:" in proc.stderr
    # results without sample logs: the table works, --ci explains what is missing
    (broken / samples.name).unlink()
    assert _cli(str(broken)).returncode == 0
    proc = _cli(str(broken), "--ci")
    assert proc.returncode == 2 and "--log_samples" in proc.stderr
    proc = _cli(str(broken), "--baseline", "nope")
    assert proc.returncode == 2 and "'nope' is not a row" in proc.stderr
