"""Our task YAMLs as lmms-eval resolves them (``include:`` of ``tasks/_default_template_yaml``, ``_r1_template_yaml``).

Every config is loaded through lmms-eval's own loader (``TaskManager`` indexes ``--include_path``,
``lmms_eval.utils.load_yaml_config`` resolves the includes and ``!function``s) and checked against lmms-eval's
built-in ``vsibench`` task, loaded the same way: the same metric names in the same order, aggregations that give
the built-in's numbers on the real VSI-Bench questions, its generation settings and its direct prompt.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest

from spatial_r1_eval.metrics import format_reward
from spatial_r1_eval.tasks import hooks, tasks_dir

lmms_tasks = pytest.importorskip("lmms_eval.tasks", reason="lmms-eval (the reference) is not installed")
lmms_utils = pytest.importorskip("lmms_eval.utils")

DIRECT = ("sr", "vsibench_direct")
REASONING = ("sr_r1", "vsibench_r1")
MAIN = DIRECT + REASONING
#: the keys a blind variant may change: its name, its data loading (no video check) and its vision inputs
BLIND_KEYS = {"task", "process_docs", "doc_to_visual", "doc_to_messages"}


@pytest.fixture(scope="module")
def configs() -> dict[str, dict]:
    manager = lmms_tasks.TaskManager(include_path=str(tasks_dir()), include_defaults=False)
    return {
        name: lmms_utils.load_yaml_config(entry["yaml_path"], mode="full")
        for name, entry in manager.task_index.items()
        if entry["type"] == "task"
    }


@pytest.fixture(scope="module")
def builtin() -> dict:
    """lmms-eval's built-in ``vsibench`` task config, resolved by the same loader."""
    return lmms_utils.load_yaml_config(str(Path(lmms_tasks.__file__).parent / "vsibench" / "vsibench.yaml"))


def test_every_task_yaml_is_indexed_with_its_blind_variant(configs: dict[str, dict]) -> None:
    on_disk = {p.stem for p in tasks_dir().glob("*/*.yaml")}
    assert set(configs) == on_disk == set(MAIN) | {f"{name}_blind" for name in MAIN}
    assert all(config["task"] == name for name, config in configs.items())


def test_metrics_are_the_builtin_vsibench_metrics(configs: dict[str, dict], builtin: dict) -> None:
    expected = [(m["metric"], m["higher_is_better"]) for m in builtin["metric_list"]]
    assert len(expected) == 9
    for name, config in configs.items():
        got = [(m["metric"], m["higher_is_better"]) for m in config["metric_list"]]
        extra = [("format_reward", True)] if name.startswith(REASONING) else []
        assert got == expected + extra, name


def _plain_predictions(raw: list[dict], rng: np.random.Generator) -> list[str]:
    preds = []
    for doc in raw:
        if doc["options"]:
            preds.append("ABCD"[int(rng.integers(len(doc["options"])))])
        else:
            preds.append(f"{float(doc['ground_truth']) * rng.uniform(0.3, 1.8):.1f}")
    return preds


@pytest.mark.parametrize("name", MAIN)
def test_aggregations_give_the_builtin_numbers_on_real_questions(
    name: str, configs: dict[str, dict], builtin: dict, vsibench_rows: list[dict], vsibench_docs: list[dict]
) -> None:
    config = configs[name]
    preds = _plain_predictions(vsibench_rows, np.random.default_rng(0))
    # reasoning tasks score the last <answer>; half the completions are well formed, half plain
    completions = [f"<think>t</think><answer>{p}</answer>" if i % 2 else p for i, p in enumerate(preds)]
    ours = [config["process_results"](d, [c]) for d, c in zip(vsibench_docs, completions, strict=True)]
    theirs = [builtin["process_results"](copy.deepcopy(d), [p]) for d, p in zip(vsibench_rows, preds, strict=True)]
    agg = {m["metric"]: m["aggregation"] for m in config["metric_list"]}
    for m in builtin["metric_list"]:
        metric = m["metric"]
        got = agg[metric]([r[metric] for r in ours])
        assert got == m["aggregation"]([r[metric] for r in theirs]), (name, metric)
    assert 0.0 < got < 1.0
    if name in REASONING:
        assert agg["format_reward"]([r["format_reward"] for r in ours]) == pytest.approx(
            np.mean([format_reward(c) for c in completions])
        )


def test_generation_settings(configs: dict[str, dict], builtin: dict) -> None:
    for name, config in configs.items():
        got = dict(config["generation_kwargs"])
        if name.startswith(REASONING):  # room for the <think> part; everything else as the built-in
            assert got.pop("max_new_tokens") > builtin["generation_kwargs"]["max_new_tokens"]
            got["max_new_tokens"] = builtin["generation_kwargs"]["max_new_tokens"]
            assert config["reasoning_tags"] == "none", name  # keep <think> for format_reward
        else:
            assert "reasoning_tags" not in config
        assert got == builtin["generation_kwargs"], name
        assert config["output_type"] == builtin["output_type"]
        assert config["doc_to_target"] == builtin["doc_to_target"]


@pytest.mark.parametrize("name", MAIN)
def test_prompts(
    name: str, configs: dict[str, dict], builtin: dict, vsibench_rows: list[dict], vsibench_docs: list[dict]
) -> None:
    config = configs[name]
    reference = builtin["lmms_eval_specific_kwargs"]["default"]
    for kwargs in config["lmms_eval_specific_kwargs"].values():
        for raw, doc in zip(vsibench_rows[::50], vsibench_docs[::50], strict=True):
            text = config["doc_to_text"](doc, kwargs)
            if name in DIRECT:
                assert text == builtin["doc_to_text"](copy.deepcopy(raw), reference)
            else:
                assert text.startswith(doc["question"]), text
                assert "<think> </think>" in text and text.endswith("within the <answer> </answer> tags.")


def test_blind_variants_change_only_the_vision_keys(configs: dict[str, dict], vsibench_docs: list[dict]) -> None:
    doc = dict(vsibench_docs[0], video_path=__file__)  # an existing file stands in for the video
    for name in MAIN:
        full, blind = configs[name], configs[f"{name}_blind"]
        assert {k for k in full.keys() | blind.keys() if full.get(k) != blind.get(k)} == BLIND_KEYS
        assert full["doc_to_visual"](doc) == [__file__] and blind["doc_to_visual"](doc) == []
        kwargs = full["lmms_eval_specific_kwargs"]["default"]
        seen = [[c["type"] for c in m["content"]] for m in full["doc_to_messages"](doc, kwargs)]
        blind_seen = [[c["type"] for c in m["content"]] for m in blind["doc_to_messages"](doc, kwargs)]
        assert seen == [["video", "text"]] and blind_seen == [["text"]], name


def test_each_task_reads_its_own_data(
    configs: dict[str, dict], vsibench_dir: Path, synthetic_sr: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(hooks.SR_DIR_ENV, str(synthetic_sr))
    monkeypatch.setenv(hooks.VSIBENCH_DIR_ENV, str(vsibench_dir))
    n_sr = len((synthetic_sr / "sr.jsonl").read_text().splitlines())
    n_vsibench = len((vsibench_dir / "test.jsonl").read_text().splitlines())
    for name in ("sr", "sr_blind", "sr_r1", "sr_r1_blind", "vsibench_direct_blind", "vsibench_r1_blind"):
        docs = configs[name]["process_docs"](None)
        assert len(docs) == (n_sr if name.startswith("sr") else n_vsibench), name
    for name in ("vsibench_direct", "vsibench_r1"):  # the real questions come without their videos
        with pytest.raises(FileNotFoundError, match="video not found"):
            configs[name]["process_docs"](None)


def _changelog_version(readme: Path) -> float:
    changelog = readme.read_text().split("## Changelog", 1)[1]
    return max(float(v) for v in re.findall(r"^- (\d+\.\d+):", changelog, flags=re.M))


def test_version_is_the_latest_changelog_entry(configs: dict[str, dict]) -> None:
    for name in MAIN:
        version = _changelog_version(tasks_dir() / name / "README.md")
        assert configs[name]["metadata"]["version"] == configs[f"{name}_blind"]["metadata"]["version"] == version
