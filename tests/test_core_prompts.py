"""Prompts: VSI-Bench direct prompt vs lmms-eval's vsibench_doc_to_text; the Video-R1 reasoning prompt text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatial_r1_eval import prompts, questions

vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")

NUM = {"id": 1, "question_type": "object_size_estimation", "question": "How long is the sofa (cm)?", "options": None}
MC = {
    "id": 2,
    "question_type": "object_rel_direction_medium",
    "question": "Where is the chair?",
    "options": ["A. left", "B. right", "C. back"],
}
KWARGS = [
    {},
    {"pre_prompt": "", "mca_post_prompt": "", "na_post_prompt": ""},
    {"pre_prompt": "Watch.", "mca_post_prompt": "Letter only.", "na_post_prompt": "Number only."},
]


@pytest.mark.parametrize("kwargs", KWARGS)
@pytest.mark.parametrize("record", [NUM, MC])
def test_direct_prompt_equals_lmms_doc_to_text(record: dict, kwargs: dict) -> None:
    assert prompts.build_direct_prompt(record, **kwargs) == vsb.vsibench_doc_to_text(record, kwargs)


def test_direct_prompt_equals_lmms_on_all_real_vsibench_records(vsibench_dir: Path) -> None:
    with open(vsibench_dir / "test.jsonl", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    for rec in records:
        assert prompts.build_direct_prompt(rec) == vsb.vsibench_doc_to_text(rec), rec["id"]


# Video-R1 (src/r1-v/src/open_r1/grpo.py), as quoted in the project brief.
VIDEO_R1_QUESTION = (
    "{Question}\nPlease think about this question as if you were a human pondering deeply. Engage in an internal "
    "dialogue using expressions such as 'let me think', 'wait', 'Hmm', 'oh, I see', 'let's break it down', etc, or "
    "other natural language thought expressions It's encouraged to include self-reflection or verification in the "
    "reasoning process. Provide your detailed reasoning between the <think> </think> tags, and then give your final "
    "answer between the <answer> </answer> tags."
)
VIDEO_R1_MC = (
    " Please provide only the single option letter (e.g., A, B, C, D, etc.) within the <answer> </answer> tags."
)
VIDEO_R1_NUM = " Please provide the numerical value (e.g., 42 or 3.14) within the <answer> </answer> tags."


def test_reasoning_prompt_text_is_video_r1() -> None:
    assert prompts.QUESTION_TEMPLATE == VIDEO_R1_QUESTION
    assert prompts.REASONING_PROMPT == VIDEO_R1_QUESTION
    assert prompts.TYPE_TEMPLATE["multiple choice"] == VIDEO_R1_MC
    assert prompts.TYPE_TEMPLATE["numerical"] == VIDEO_R1_NUM


def test_build_reasoning_prompt() -> None:
    assert prompts.build_reasoning_prompt(NUM) == VIDEO_R1_QUESTION.format(Question=NUM["question"]) + VIDEO_R1_NUM
    mc_question = "Where is the chair?Options:\nA. left\nB. right\nC. back\n"
    assert prompts.build_reasoning_prompt(MC) == VIDEO_R1_QUESTION.format(Question=mc_question) + VIDEO_R1_MC


@pytest.mark.parametrize("qt", sorted(questions.QUESTION_TYPES))
def test_every_question_type_has_both_prompts(qt: str) -> None:
    rec = {"question_type": qt, "question": "Q?", "options": ["A. x", "B. y"]}
    assert prompts.build_direct_prompt(rec).startswith(prompts.DEFAULT_PRE_PROMPT + "\nQ?\n")
    assert prompts.build_reasoning_prompt(rec).endswith(prompts.TYPE_TEMPLATE[questions.problem_type(qt)])


def test_prompt_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="'colour'"):
        prompts.build_direct_prompt({"question_type": "colour", "question": "Q"})
    with pytest.raises(ValueError, match="'question'"):
        prompts.build_reasoning_prompt({"id": 5, "question_type": "object_counting"})
    with pytest.raises(ValueError, match="unknown question_type 'colour'"):
        prompts.build_reasoning_prompt({"question_type": "colour", "question": "Q"})
