r"""Prompts: VSI-Bench's direct prompt and the Spatial-R1 / Video-R1 reasoning prompt.

* ``build_direct_prompt`` reproduces lmms-eval's built-in ``vsibench_doc_to_text``
  (``lmms_eval/tasks/vsibench/utils.py``, lmms-eval 0.7.3): pre-prompt (default
  ``"These are frames of a video."``), the question, for multiple choice ``"Options:"`` and one option per
  line, then the post-prompt; an empty string in any of the three keyword arguments means "default".
* ``build_reasoning_prompt`` reproduces the Video-R1 GRPO training prompt that Spatial-R1 trains with:
  ``QUESTION_TEMPLATE.format(Question=question) + TYPE_TEMPLATE[problem_type]`` where, for multiple
  choice, ``question = problem + "Options:\n" + "".join(option + "\n")`` (Video-R1
  ``src/r1-v/src/open_r1/grpo.py``, ``make_conversation_image_and_video``; text verified against copies of
  that file in public Video-R1 derivatives — the Spatial-R1 repository, OuyangKun10/Spatial-R1, builds on
  Video-R1).

>>> rec = {"question_type": "object_counting", "question": "How many chair(s) are in this room?"}
>>> print(build_direct_prompt(rec))
These are frames of a video.
How many chair(s) are in this room?
Please answer the question using a single word or phrase.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spatial_r1_eval.questions import MULTIPLE_CHOICE, NUMERICAL, problem_type

__all__ = [
    "DEFAULT_PRE_PROMPT",
    "DEFAULT_MCA_POST_PROMPT",
    "DEFAULT_NA_POST_PROMPT",
    "REASONING_PROMPT",
    "QUESTION_TEMPLATE",
    "TYPE_TEMPLATE",
    "build_direct_prompt",
    "build_reasoning_prompt",
    "reasoning_question",
]

DEFAULT_PRE_PROMPT = "These are frames of a video."
DEFAULT_MCA_POST_PROMPT = "Answer with the option's letter from the given choices directly."
DEFAULT_NA_POST_PROMPT = "Please answer the question using a single word or phrase."

QUESTION_TEMPLATE = (
    "{Question}\n"
    "Please think about this question as if you were a human pondering deeply. "
    "Engage in an internal dialogue using expressions such as 'let me think', 'wait', 'Hmm', 'oh, I see', "
    "'let's break it down', etc, or other natural language thought expressions "
    "It's encouraged to include self-reflection or verification in the reasoning process. "
    "Provide your detailed reasoning between the <think> </think> tags, and then give your final answer "
    "between the <answer> </answer> tags."
)
"""Video-R1's ``QUESTION_TEMPLATE`` (verbatim, including its missing full stop after "expressions")."""

TYPE_TEMPLATE: dict[str, str] = {
    "multiple choice": " Please provide only the single option letter (e.g., A, B, C, D, etc.) within the "
    "<answer> </answer> tags.",
    "numerical": " Please provide the numerical value (e.g., 42 or 3.14) within the <answer> </answer> tags.",
    "OCR": " Please transcribe text from the image/video clearly and provide your text answer within the "
    "<answer> </answer> tags.",
    "free-form": " Please provide your text answer within the <answer> </answer> tags.",
    "regression": " Please provide the numerical value (e.g., 42 or 3.14) within the <answer> </answer> tags.",
}
"""Video-R1's ``TYPE_TEMPLATE``: the answer-format sentence appended per ``problem_type``."""

REASONING_PROMPT = QUESTION_TEMPLATE
"""The reasoning prompt template (alias of ``QUESTION_TEMPLATE``; format with ``Question=``)."""


def _field(record: Mapping[str, Any], name: str) -> Any:
    if name not in record:
        rid = record.get("id")
        raise ValueError(
            f"record {rid!r} has no field {name!r}" if rid is not None else f"record has no field {name!r}"
        )
    return record[name]


def _options(record: Mapping[str, Any]) -> list[str]:
    opts = record.get("options") or []
    if isinstance(opts, str):
        raise ValueError(f"record {record.get('id')!r}: options must be a list of strings, got a string")
    return [str(o) for o in opts]


def build_direct_prompt(
    record: Mapping[str, Any],
    pre_prompt: str = "",
    mca_post_prompt: str = "",
    na_post_prompt: str = "",
) -> str:
    """The VSI-Bench direct-answer prompt, exactly as lmms-eval's ``vsibench_doc_to_text`` builds it.

    Args:
        record: a record with ``question_type``, ``question`` and (multiple choice) ``options``.
        pre_prompt: text before the question ("" → ``DEFAULT_PRE_PROMPT``).
        mca_post_prompt: instruction after the options ("" → ``DEFAULT_MCA_POST_PROMPT``).
        na_post_prompt: instruction after a numerical question ("" → ``DEFAULT_NA_POST_PROMPT``).

    Returns:
        The prompt text.

    Raises:
        ValueError: unknown question type or missing field.

    >>> rec = {"question_type": "route_planning", "question": "Q?", "options": ["A. left", "B. right"]}
    >>> build_direct_prompt(rec).splitlines()[:5]
    ['These are frames of a video.', 'Q?', 'Options:', 'A. left', 'B. right']
    """
    qt = _field(record, "question_type")
    question = _field(record, "question")
    pre = pre_prompt or DEFAULT_PRE_PROMPT
    if qt in NUMERICAL:
        return pre + "\n" + question + "\n" + (na_post_prompt or DEFAULT_NA_POST_PROMPT)
    if qt in MULTIPLE_CHOICE:
        options = "Options:\n" + "\n".join(_options(record))
        return "\n".join([pre, question, options, mca_post_prompt or DEFAULT_MCA_POST_PROMPT])
    raise ValueError(f"unknown question_type {qt!r}")


def reasoning_question(record: Mapping[str, Any]) -> str:
    """The ``{Question}`` part of the reasoning prompt: the question, plus options for multiple choice.

    Follows Video-R1: ``problem + "Options:\\n" + "".join(option + "\\n" for option in options)`` (no
    separator between the question and ``"Options:"``, as in Video-R1).

    >>> reasoning_question({"question_type": "route_planning", "question": "Q? ", "options": ["A. x", "B. y"]})
    'Q? Options:\\nA. x\\nB. y\\n'
    """
    qt = _field(record, "question_type")
    question = str(_field(record, "question"))
    if problem_type(qt) == "multiple choice":
        return question + "Options:\n" + "".join(o + "\n" for o in _options(record))
    return question


def build_reasoning_prompt(record: Mapping[str, Any]) -> str:
    """The Spatial-R1 / Video-R1 reasoning prompt for a record (training and reasoning evaluation).

    Args:
        record: a record with ``question_type``, ``question`` and (multiple choice) ``options``.

    Returns:
        ``QUESTION_TEMPLATE.format(Question=reasoning_question(record)) + TYPE_TEMPLATE[problem_type]``.

    Raises:
        ValueError: unknown question type or missing field.

    >>> p = build_reasoning_prompt({"question_type": "object_counting", "question": "How many chair(s)?"})
    >>> p.startswith("How many chair(s)?\\nPlease think about this question")
    True
    >>> p.endswith("(e.g., 42 or 3.14) within the <answer> </answer> tags.")
    True
    """
    qt = _field(record, "question_type")
    return QUESTION_TEMPLATE.format(Question=reasoning_question(record)) + TYPE_TEMPLATE[problem_type(qt)]
