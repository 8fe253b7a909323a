"""A tiny randomly initialised Qwen2.5-VL checkpoint that loads offline (tests, demos, CI).

The checkpoint folder holds everything ``Qwen2_5_VLForConditionalGeneration.from_pretrained`` and
``AutoProcessor.from_pretrained`` need: ``config.json``, ``generation_config.json``, ``model.safetensors``,
a byte-level BPE tokenizer trained locally with the ``tokenizers`` library on a small built-in corpus (with
every special token Qwen2.5-VL uses, at the same relative positions), the Qwen2.5-VL chat template, and the
image/video processor configs. No network access is needed; the same seed gives byte-identical files.

Usage::

    spatial-r1 tiny-model --out /tmp/tiny-qwen
    lmms-eval --model qwen2_5_vl \\
        --model_args pretrained=/tmp/tiny-qwen,device=cpu,device_map=cpu,max_pixels=12544,min_pixels=3136 ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from spatial_r1_eval.tiny_model._common import build_checkpoint, qwen_vl_config

#: Qwen2.5-VL's special tokens, in the order the released tokenizer assigns them (after the BPE vocabulary).
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

#: The chat template of Qwen/Qwen2.5-VL-*-Instruct (vision placeholders expanded by the processor).
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: "
    "{% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _config(tokenizer: Any, ids: Mapping[str, int], hidden_size: int, num_layers: int, vision_depth: int) -> Any:
    from transformers import Qwen2_5_VLConfig

    head_dim = hidden_size // 4
    # temporal/height/width rotary sections summing to head_dim / 2, in Qwen2.5-VL's 2:3:3 proportion
    t_section = head_dim // 8
    h_section = (head_dim // 2 - t_section) // 2
    mrope_section = [t_section, h_section, head_dim // 2 - t_section - h_section]
    rope = {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": mrope_section}
    text = {"max_window_layers": num_layers, "rope_parameters": rope}
    vision = {
        "patch_size": 14,
        "window_size": 112,
        "fullatt_block_indexes": [vision_depth - 1],
        "tokens_per_second": 2,
    }
    return qwen_vl_config(
        Qwen2_5_VLConfig, tokenizer, ids, hidden_size, num_layers, vision_depth, text=text, vision=vision
    )


def _processor(tokenizer: Any, max_pixels: int) -> Any:
    from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    min_pixels = 4 * 28 * 28
    return Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(min_pixels=min_pixels, max_pixels=max_pixels),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(min_pixels=min_pixels, max_pixels=max_pixels),
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_qwen2_5_vl(
    out_dir: str | os.PathLike[str], seed: int = 0, *, max_pixels: int = 16 * 28 * 28, **sizes: int
) -> Path:
    """Write a randomly initialised, loadable Qwen2.5-VL checkpoint to ``out_dir`` (``out_dir``, ``seed`` and
    ``**sizes``: ``hidden_size``, ``num_layers``, ``vision_depth``, ``bpe_vocab_size``, as in
    :func:`~spatial_r1_eval.tiny_model._common.build_checkpoint`).

    Args:
        max_pixels: Default ``max_pixels`` of the image/video processors (keep small for CPU speed).

    Example:
        >>> import tempfile
        >>> from transformers import AutoConfig
        >>> d = build_tiny_qwen2_5_vl(tempfile.mkdtemp())
        >>> AutoConfig.from_pretrained(d).model_type
        'qwen2_5_vl'
    """
    from transformers import Qwen2_5_VLForConditionalGeneration as model_cls

    processor = partial(_processor, max_pixels=max_pixels)
    return build_checkpoint(out_dir, seed, SPECIAL_TOKENS, model_cls, _config, processor, generation_bos=True, **sizes)
