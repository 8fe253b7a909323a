"""The evaluation protocol in every leaderboard row, and ranking only within a question set (real lmms-eval runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from spatial_r1_eval.files import read_jsonl
from spatial_r1_eval.leaderboard.protocol import VSIBENCH_FINGERPRINT, VSIBENCH_QUESTIONS, fingerprint, read_protocol
from spatial_r1_eval.leaderboard.runs import find_results_files
from spatial_r1_eval.tasks import tasks_dir


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPATIAL_R1_", "VSIBENCH"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="2", TOKENIZERS_PARALLELISM="false")
    return {**env, **extra}


def _lmms_eval(args: list[str], sr: Path, cwd: Path) -> None:
    cmd = [sys.executable, "-m", "lmms_eval", "--include_path", str(tasks_dir()), *args, "--log_samples"]
    proc = subprocess.run(cmd, env=_env(SPATIAL_R1_SR_DIR=str(sr)), cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_full_vsibench_fingerprint_is_the_real_question_set(vsibench_dir: Path) -> None:
    rows = read_jsonl(vsibench_dir / "test.jsonl")
    assert len(rows) == VSIBENCH_QUESTIONS
    assert fingerprint((str(r["id"]), str(r["ground_truth"])) for r in rows) == VSIBENCH_FINGERPRINT
    assert fingerprint((str(r["id"]), str(r["ground_truth"])) for r in rows[:-1]) != VSIBENCH_FINGERPRINT


@pytest.fixture(scope="module")
def runs(synthetic_sr: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("protocol_runs")
    full, limited = root / "full", root / "limited"
    # the full run goes through `spatial-r1 eval` (it records the installed versions); the limited one is plain
    # lmms-eval
    cmd = [sys.executable, "-m", "spatial_r1_eval", "eval", "--tasks", "sr_blind,sr_r1_blind", "--model",
           "chance_frequency", "--sr-dir", str(synthetic_sr), "--output", str(full)]  # fmt: skip
    proc = subprocess.run(cmd, env=_env(), cwd=root, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _lmms_eval(["--tasks", "sr_blind", "--model", "chance_random", "--model_args", "seed=3", "--limit", "3",
                "--output_path", str(limited)], synthetic_sr, root)  # fmt: skip
    return full, limited


def test_protocol_is_read_from_the_results_and_sample_log(runs: tuple[Path, Path], synthetic_sr: Path) -> None:
    full, limited = runs
    records = read_jsonl(synthetic_sr / "sr.jsonl")
    whole = read_protocol(find_results_files(full)[0], "sr_blind")
    assert whole.model == "chance_frequency" and whole.task_version == "0.1" and whole.prompt == "direct"
    assert whole.questions == len(records) and whole.limit is None
    assert whole.fingerprint == fingerprint((r["id"], str(r["ground_truth"])) for r in records)
    assert "max_new_tokens=16" in whole.gen_kwargs
    # the package version, not lmms-eval's own field (the git branch@commit of the folder it ran in)
    assert whole.lmms_eval_version == metadata.version("lmms_eval")
    raw = json.loads(find_results_files(full)[0].read_text())["lmms_eval_version"]
    assert raw != whole.lmms_eval_version
    r1 = read_protocol(find_results_files(full)[0], "sr_r1_blind")
    assert r1.prompt == "reasoning" and r1.task_version == "0.2" and r1.fingerprint == whole.fingerprint
    part = read_protocol(find_results_files(limited)[0], "sr_blind")
    assert part.limit == "3" and part.questions == 3 and part.fingerprint != whole.fingerprint
    assert part.lmms_eval_version is None  # plain lmms-eval: no versions recorded, none invented
    assert part.model_args == "seed=3"


def test_leaderboard_ranks_within_question_sets_and_flags_mixed_protocols(runs: tuple[Path, Path]) -> None:
    full, limited = runs
    cmd = [sys.executable, "-m", "spatial_r1_eval", "leaderboard", str(full), str(limited)]
    proc = subprocess.run([*cmd, "--reference", "spatial-r1-table1", "--protocol"], env=_env(), capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # SR rows are never marked best against the paper's VSI-Bench rows; the limited run is alone in its set
    limited_row = next(line for line in lines if line.startswith("| chance_random (sr_blind)"))
    assert "**" not in limited_row
    assert any(line.startswith("| GPT-4o") and "**" in line for line in lines) or any(
        line.startswith("| Spatial-R1") and "**" in line for line in lines
    )
    sets = [line for line in lines if line.startswith("- ") and ", set " in line]
    assert len(sets) == 3, sets
    full_set = f"- VSI-Bench (full test set), {VSIBENCH_QUESTIONS} questions, set {VSIBENCH_FINGERPRINT}"
    assert sets[0].startswith(full_set)
    assert any("chance_random (sr_blind)" in s and "3 questions" in s for s in sets)
    # same question set, direct vs reasoning prompt: flagged
    flagged = [line for line in lines if line.startswith("- question set")]
    flag = next(line for line in flagged if "chance_frequency (sr_blind)" in line and "(sr_r1_blind)" in line)
    differ = flag.split(" differ in ")[1].removesuffix(" (see --protocol)").split(" / ")
    # only what really differs is named: the prompt and the task version (0.1 vs 0.2); both rows come from one run
    # (one lmms-eval install) of a model that reads no frames
    assert {"prompt", "task version"} <= set(differ), flag
    assert not {"frames", "max_pixels", "lmms-eval version"} & set(differ), flag
    footnote = next(line for line in lines if line.startswith("- chance_random (sr_blind): "))
    assert "limit 3" in footnote and "model_args seed=3" in footnote and "task sr_blind v0.1" in footnote


def test_html_shows_each_rows_protocol_on_hover(runs: tuple[Path, Path], tmp_path: Path) -> None:
    import html
    import re

    full, limited = runs
    page = tmp_path / "lb.html"
    cmd = [sys.executable, "-m", "spatial_r1_eval", "leaderboard", str(full), str(limited), "--html", str(page)]
    proc = subprocess.run([*cmd, "--reference", "spatial-r1-table1"], env=_env(), capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    titles = {
        html.unescape(name): html.unescape(title)
        for title, name in re.findall(r'<td title="([^"]*)">([^<]*)</td>', page.read_text())
    }
    limited_title = titles["chance_random (sr_blind)"]
    assert "limit 3" in limited_title and "model chance_random" in limited_title
    assert titles["GPT-4o"] == "published row (full VSI-Bench test set)"


@pytest.fixture(scope="module")
def analysis(runs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``spatial-r1 leaderboard FULL --analysis OUT`` of the chance_frequency run (sr_blind and sr_r1_blind)."""
    out = tmp_path_factory.mktemp("analysis")
    cmd = [sys.executable, "-m", "spatial_r1_eval", "leaderboard", str(runs[0]), "--analysis", str(out)]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return out


def test_error_analysis_pngs_and_page_from_a_logged_run(analysis: Path, synthetic_sr: Path):
    """``--analysis``: numbers recomputed from sr.jsonl and the raw responses, PNGs readable, page links them."""
    import json

    from PIL import Image

    out = analysis
    report = json.loads((out / "analysis.json").read_text())
    records = read_jsonl(synthetic_sr / "sr.jsonl")
    direct = report["chance_frequency (sr_blind)"]
    for qt in {r["question_type"] for r in records}:
        mine = [r for r in records if r["question_type"] == qt]
        assert direct[qt]["n"] == len(mine), qt
        if "relative_error" in direct[qt]:  # chance_frequency answers one constant per numerical type
            truths = sorted(float(r["ground_truth"]) for r in mine)
            assert sorted(direct[qt]["truth"]) == truths
            (constant,) = set(direct[qt]["predicted"])
            want = sorted(abs(constant - t) / t for t in truths)
            assert sorted(direct[qt]["relative_error"]) == pytest.approx(want)
        else:
            assert sum(c for _, _, c in direct[qt]["confusion"]) == len(mine)
            option_texts = {o.split(".", 1)[1].strip() for r in mine for o in r["options"]}
            assert {t for t, _, _ in direct[qt]["confusion"]} <= option_texts, qt  # option texts, not letters
        assert direct[qt]["format_failures"] is None
        # the reasoning task: chance answers are never in the <think>/<answer> format
        assert report["chance_frequency (sr_r1_blind)"][qt]["format_failures"] == len(mine)
        png = out / f"chance_frequency__sr_blind___{qt}.png"
        with Image.open(png) as image:
            assert image.format == "PNG" and min(image.size) > 100
        assert f'src="{png.name}"' in (out / "index.html").read_text()


#: Records each <img>'s load state and natural size into the DOM once every image has loaded or failed.
_IMG_PROBE = """<script>window.addEventListener("load", () => {
  const imgs = [...document.images].map(i => [i.getAttribute("src"), i.complete, i.naturalWidth, i.naturalHeight]);
  const pre = document.createElement("pre"); pre.id = "img-probe"; pre.textContent = JSON.stringify(imgs);
  document.body.appendChild(pre);
});</script>"""


def test_error_analysis_page_renders_its_images_in_chromium(
    analysis: Path, synthetic_sr: Path, tmp_path: Path, chromium
) -> None:
    """index.html in headless Chromium: every <img> decoded at its PNG's own size, the plots on screen, and the
    page names each run (task) and each question type of the data."""
    import html
    import json
    import re

    import numpy as np
    from PIL import Image

    page = (analysis / "index.html").read_text()
    # the same page with a probe script, next to it so that the relative image paths resolve alike
    probe_page = analysis / "probe.html"
    probe_page.write_text(page.replace("</body>", _IMG_PROBE + "</body>"))
    proc = chromium("--virtual-time-budget=10000", "--dump-dom", probe_page.as_uri())
    found = re.search(r'<pre id="img-probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stdout[-2000:] + proc.stderr[-2000:]
    images = json.loads(html.unescape(found.group(1)))
    pngs = sorted(p.name for p in analysis.glob("*.png"))
    assert sorted(src for src, *_ in images) == pngs and pngs
    for src, complete, width, height in images:
        with Image.open(analysis / src) as im:
            assert complete and (width, height) == im.size, (src, complete, width, height, im.size)
    # the rendered text names both runs (tasks) and every question type of the SR data
    text = html.unescape(re.sub(r"<[^>]+>", " ", proc.stdout))
    for task in ("sr_blind", "sr_r1_blind"):
        assert f"chance_frequency ({task})" in text
    question_types = {r["question_type"] for r in read_jsonl(synthetic_sr / "sr.jsonl")}
    captions = re.findall(r"<figcaption>([^<:]+):", proc.stdout)
    assert sorted(captions) == sorted([*question_types, *question_types])  # one figure per type and run
    # and the plots are on screen: a screenshot of the page that is neither blank nor one colour
    shot = tmp_path / "shot.png"
    chromium("--window-size=1200,1600", f"--screenshot={shot}", (analysis / "index.html").as_uri())
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB")).astype(int)
    assert pixels.shape[:2] == (1600, 1200)
    assert 0.01 < (pixels.sum(axis=2) < 600).mean() < 0.6  # drawn, not white or black
    assert (np.abs(pixels - (0x44, 0x77, 0xAA)).sum(axis=2) <= 12).sum() > 500  # the histograms' bars
