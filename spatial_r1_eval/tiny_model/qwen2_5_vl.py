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

import logging
import os
from pathlib import Path

from spatial_r1_eval.tiny_model._common import check_sizes, padded_vocab, qwen2_tokenizer, save_seeded

logger = logging.getLogger(__name__)

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


def build_tiny_qwen2_5_vl(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    vision_depth: int = 2,
    bpe_vocab_size: int = 400,
    max_pixels: int = 16 * 28 * 28,
) -> Path:
    """Write a randomly initialised, loadable Qwen2.5-VL checkpoint to ``out_dir``.

    Args:
        out_dir: Output folder (created; existing checkpoint files are overwritten).
        seed: Seed for the weights; the same seed gives byte-identical files.
        hidden_size: Text hidden size (multiple of 16; 4 attention heads of ``hidden_size // 4``).
        num_layers: Decoder layers.
        vision_depth: Vision transformer blocks.
        bpe_vocab_size: BPE vocabulary size before the special tokens (>= 256 + merges).
        max_pixels: Default ``max_pixels`` of the image/video processors (keep small for CPU speed).

    Returns:
        The checkpoint folder.

    Example:
        >>> import tempfile
        >>> from transformers import AutoConfig
        >>> d = build_tiny_qwen2_5_vl(tempfile.mkdtemp())
        >>> AutoConfig.from_pretrained(d).model_type
        'qwen2_5_vl'
    """
    check_sizes(hidden_size, num_layers, vision_depth, bpe_vocab_size)
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer, ids = qwen2_tokenizer(SPECIAL_TOKENS, bpe_vocab_size)
    vocab_size = len(tokenizer)

    # --- model config ---
    head_dim = hidden_size // 4
    # temporal/height/width rotary sections summing to head_dim / 2, in Qwen2.5-VL's 2:3:3 proportion
    t_section = head_dim // 8
    h_section = (head_dim // 2 - t_section) // 2
    mrope_section = [t_section, h_section, head_dim // 2 - t_section - h_section]
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": padded_vocab(tokenizer),
            "hidden_size": hidden_size,
            "intermediate_size": hidden_size * 2,
            "num_hidden_layers": num_layers,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 32768,
            "max_window_layers": num_layers,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 1000000.0,
                "mrope_section": mrope_section,
            },
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": vision_depth,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": hidden_size,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": [vision_depth - 1],
            "tokens_per_second": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    config.bos_token_id = ids["<|endoftext|>"]
    config.eos_token_id = ids["<|im_end|>"]
    config.pad_token_id = ids["<|endoftext|>"]

    # --- weights (seeded) ---
    model = save_seeded(
        Qwen2_5_VLForConditionalGeneration,
        config,
        out,
        seed,
        GenerationConfig(
            bos_token_id=ids["<|endoftext|>"],
            eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
            pad_token_id=ids["<|endoftext|>"],
            do_sample=False,
        ),
    )

    # --- processor (tokenizer + image/video processors + chat template) ---
    min_pixels = 4 * 28 * 28
    image_processor = Qwen2VLImageProcessor(min_pixels=min_pixels, max_pixels=max_pixels)
    video_processor = Qwen2VLVideoProcessor(min_pixels=min_pixels, max_pixels=max_pixels)
    processor = Qwen2_5_VLProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)
    tokenizer.save_pretrained(out)
    logger.info(
        "wrote tiny Qwen2.5-VL checkpoint (%d parameters, vocab %d) to %s", model.num_parameters(), vocab_size, out
    )
    return out
