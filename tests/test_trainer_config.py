"""Recipes parse with TRL's parser; config checks; SR training data loading with safe paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatial_r1_eval.trainer.config import SpatialR1Arguments, parse_config
from spatial_r1_eval.trainer.data import load_sr_train
from spatial_r1_eval.trainer.video_inputs import VideoBudget

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "trainer" / "recipes"


def test_paper_recipe_holds_the_paper_setup() -> None:
    import yaml

    recipe = yaml.safe_load((RECIPES / "spatial_r1_7b.yaml").read_text())
    assert recipe["bf16"] is True  # on CPU-only machines transformers refuses bf16: override it to parse here
    args, grpo = parse_config(
        ["--config", str(RECIPES / "spatial_r1_7b.yaml"), "--bf16", "false", "--use_cpu", "true"]
    )
    assert args.model_name_or_path == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert (args.video_frames, args.video_max_pixels) == (16, 128 * 28 * 28)
    assert args.reward_funcs == ["accuracy", "format"]
    assert grpo.num_generations == 8 and grpo.learning_rate == 1e-6 and grpo.beta == 0.04
    # vLLM rollouts when installed (and a GPU is there), colocated with training
    assert recipe["rollouts"] == "auto" and grpo.vllm_mode == "colocate"


PAPER_ON_CPU = ["--config", str(RECIPES / "spatial_r1_7b.yaml"), "--bf16", "false", "--use_cpu", "true"]


def test_paper_recipe_rollouts_follow_the_installed_vllm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With an importable ``vllm`` package (an empty one on sys.path here), vLLM rollouts are taken when asked."""
    (tmp_path / "vllm").mkdir()
    (tmp_path / "vllm" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert parse_config([*PAPER_ON_CPU, "--rollouts", "vllm"])[1].use_vllm is True
    assert parse_config([*PAPER_ON_CPU, "--rollouts", "transformers"])[1].use_vllm is False
    import torch

    if not torch.cuda.is_available():  # the recipe's rollouts: auto also needs a GPU
        assert parse_config(PAPER_ON_CPU)[1].use_vllm is False


def test_paper_recipe_without_vllm_samples_with_transformers() -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here: the recipe may take vLLM rollouts")
    assert parse_config(PAPER_ON_CPU)[1].use_vllm is False
    with pytest.raises(ValueError, match=r"rollouts: vllm needs the vllm package: pip install"):
        parse_config([*PAPER_ON_CPU, "--rollouts", "vllm"])


@pytest.mark.parametrize(
    ("rollouts", "use_vllm", "installed", "cuda", "expected"),
    [
        ("auto", False, False, False, False),
        ("auto", False, True, False, False),
        ("auto", False, False, True, False),
        ("auto", False, True, True, True),
        ("auto", True, True, False, True),  # asked for explicitly: vLLM says itself if it cannot run
        ("vllm", False, True, False, True),
        ("transformers", False, True, True, False),
        ("vllm", False, False, True, "needs the vllm package"),
        ("auto", True, False, True, "needs the vllm package"),
        ("transformers", True, True, True, "contradicts rollouts: transformers"),
        ("fast", False, True, True, "rollouts must be one of"),
    ],
)
def test_rollout_backend_choice(rollouts, use_vllm, installed, cuda, expected) -> None:
    from spatial_r1_eval.trainer.config import use_vllm_for

    if isinstance(expected, str):
        with pytest.raises(ValueError, match=expected):
            use_vllm_for(rollouts, use_vllm, vllm_installed=installed, cuda_available=cuda)
    else:
        assert use_vllm_for(rollouts, use_vllm, vllm_installed=installed, cuda_available=cuda) is expected


def test_smoke_recipe_rejects_use_vllm_against_its_rollouts() -> None:
    with pytest.raises(ValueError, match="contradicts rollouts: transformers"):
        parse_config(["--config", str(RECIPES / "smoke.yaml"), "--use_vllm", "true"])
    _, grpo = parse_config(["--config", str(RECIPES / "smoke.yaml")])
    assert grpo.use_vllm is False


def test_smoke_recipe_and_overrides() -> None:
    args, grpo = parse_config(["--config", str(RECIPES / "smoke.yaml"), "--max_steps", "5", "--video_frames", "2"])
    assert args.model_name_or_path == "tiny" and args.dataset_path == "synthetic"
    assert grpo.max_steps == 5 and args.video_frames == 2 and grpo.use_cpu


def test_accelerate_configs_are_valid_yaml() -> None:
    import yaml

    zero3 = yaml.safe_load((REPO / "trainer" / "accelerate_configs" / "zero3.yaml").read_text())
    assert zero3["distributed_type"] == "DEEPSPEED" and zero3["deepspeed_config"]["zero_stage"] == 3
    single = yaml.safe_load((REPO / "trainer" / "accelerate_configs" / "single_gpu.yaml").read_text())
    assert single["num_processes"] == 1


def test_unknown_key_and_bad_values(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset_path: x.jsonl\nvideo_frame: 16\n")  # misspelt; on CPU the bf16 default fails too
    with pytest.raises(ValueError, match=r"bad\.yaml: unknown key 'video_frame' \(did you mean 'video_frames'\?\)$"):
        parse_config(["--config", str(bad)])
    # the fix the message names works
    bad.write_text("dataset_path: x.jsonl\nvideo_frames: 16\nbf16: false\nuse_cpu: true\n")
    assert parse_config(["--config", str(bad)])[0].video_frames == 16
    bad.write_text("dataset_path: x.jsonl\nvideo_frame: 16\nlearning_rat: 0.1\nzzz: 1\n")
    with pytest.raises(ValueError, match=r"unknown keys 'video_frame' \(did you mean 'video_frames'\?\), "
                       r"'learning_rat' \(did you mean 'learning_rate'\?\), 'zzz'$"):  # fmt: skip
        parse_config(["--config", str(bad)])
    with pytest.raises(FileNotFoundError, match="no such config"):
        parse_config(["--config", str(tmp_path / "missing.yaml")])
    for kwargs, match in [
        ({"video_frames": 3}, "even"),
        ({"video_max_pixels": 10}, "max_pixels"),
        ({"nar_start": 0.9, "nar_end": 0.5}, "NAR"),
        ({"torch_dtype": "int8"}, "torch_dtype"),
        ({"max_samples": 0}, "max_samples"),
    ]:
        with pytest.raises(ValueError, match=match):
            SpatialR1Arguments(**kwargs)
    assert SpatialR1Arguments().video_budget == VideoBudget(16, 128 * 28 * 28)


def _row(**over) -> dict:
    row = {
        "problem_id": "s-1", "problem": "How many chair(s) are in this room?", "data_type": "video",
        "problem_type": "numerical", "options": [], "solution": "<answer>3</answer>",
        "path": "videos/scannet/s.mp4", "data_source": "SR", "question_type": "object_counting",
    }  # fmt: skip
    row.update(over)
    return row


def _write(root: Path, rows: list[dict]) -> Path:
    (root / "videos" / "scannet").mkdir(parents=True, exist_ok=True)
    (root / "videos" / "scannet" / "s.mp4").write_bytes(b"\x00")
    path = root / "sr_train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_load_sr_train_builds_reasoning_prompts(tmp_path: Path) -> None:
    from spatial_r1_eval.prompts import build_reasoning_prompt

    mc = _row(problem_id="s-2", question_type="route_planning", problem_type="multiple choice",
              options=["A. left", "B. right"], solution="<answer>B</answer>", problem="Which way? ")  # fmt: skip
    ds = load_sr_train(_write(tmp_path, [_row(), mc]))
    assert len(ds) == 2
    first, second = ds[0], ds[1]
    assert first["prompt"] == [{"role": "user", "content": build_reasoning_prompt(
        {"question_type": "object_counting", "question": "How many chair(s) are in this room?"})}]  # fmt: skip
    assert second["prompt"][0]["content"].startswith("Which way? Options:\nA. left\nB. right\n")
    assert first["video"] == str((tmp_path / "videos" / "scannet" / "s.mp4").resolve())
    assert (first["ground_truth"], second["ground_truth"]) == ("3", "B")
    assert load_sr_train(tmp_path / "sr_train.jsonl", question_types=["route_planning"])[0]["problem_id"] == "s-2"


def test_load_sr_train_rejects_bad_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"sr_train.jsonl:1: field 'path'.*escapes"):
        load_sr_train(_write(tmp_path, [_row(path="../../etc/passwd")]))
    with pytest.raises(ValueError, match=r":1: missing field 'question_type'"):
        load_sr_train(_write(tmp_path, [_row(question_type=None)]))
    with pytest.raises(FileNotFoundError, match="videos/scannet/other.mp4"):
        load_sr_train(_write(tmp_path, [_row(path="videos/scannet/other.mp4")]))
    with pytest.raises(ValueError, match="data_type must be 'video'"):
        load_sr_train(_write(tmp_path, [_row(data_type="image")]))
    with pytest.raises(ValueError, match="no training rows"):
        load_sr_train(_write(tmp_path, [_row()]), question_types=["route_planning"])


def test_cli_reports_an_unknown_config_key_in_one_line(tmp_path: Path, capsys) -> None:
    from spatial_r1_eval.commands.cli import main

    (tmp_path / "r.yaml").write_text("max_step: 5\n")
    assert main(["train", "--config", str(tmp_path / "r.yaml")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "Warning" not in line and "warn(" not in line]
    recipe = tmp_path / "r.yaml"
    assert err == [f"spatial-r1 train: error: {recipe}: unknown key 'max_step' (did you mean 'max_steps'?)"]


def test_cli_reports_a_missing_config_in_one_line(capsys) -> None:
    from spatial_r1_eval.commands.cli import main

    assert main(["train", "--config", "/nonexistent/recipe.yaml"]) == 2
    err = capsys.readouterr().err
    assert "no such config file" in err and "Traceback" not in err
