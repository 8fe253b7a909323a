"""A tiny randomly initialised Qwen3-VL checkpoint (``Qwen3VLForConditionalGeneration``) that loads offline.

Same tokenizer recipe as the Qwen2.5-VL one (Qwen3-VL keeps Qwen2.5-VL's vision special tokens; ``<think>`` is
plain text, so decoding with ``skip_special_tokens=True`` keeps it, as with the released tokenizer), 16-pixel
patches, interleaved M-RoPE and DeepStack features from every vision block, and ``Qwen3VLVideoProcessor``, which
writes a ``<t seconds>`` timestamp before each temporal patch of a video.

Usage::

    spatial-r1 tiny-model --arch qwen3_vl --out /tmp/tiny-qwen3
    lmms-eval --model qwen3_vl \\
        --model_args pretrained=/tmp/tiny-qwen3,device=cpu,device_map=cpu,max_pixels=16384,min_pixels=4096 ...
"""

from __future__ import annotations

import os
from pathlib import Path

from spatial_r1_eval.tiny_model._common import check_sizes, padded_vocab, qwen2_tokenizer, save_seeded
from spatial_r1_eval.tiny_model.qwen2_5_vl import SPECIAL_TOKENS

#: The chat template of Qwen/Qwen3-VL-*-Instruct without its tool-calling branches.
CHAT_TEMPLATE = (
    "{%- if messages[0].role == 'system' -%}<|im_start|>system\n"
    "{%- if messages[0].content is string %}{{ messages[0].content }}{%- else %}"
    "{%- for content in messages[0].content %}{%- if 'text' in content %}{{ content.text }}{%- endif %}"
    "{%- endfor %}{%- endif %}<|im_end|>\n{%- endif %}"
    "{%- set image_count = namespace(value=0) %}{%- set video_count = namespace(value=0) %}"
    "{%- for message in messages %}{%- if not (loop.first and message.role == 'system') %}"
    "<|im_start|>{{ message.role }}\n"
    "{%- if message.content is string %}{{ message.content }}{%- else %}{%- for content in message.content %}"
    "{%- if content.type == 'image' or 'image' in content or 'image_url' in content %}"
    "{%- set image_count.value = image_count.value + 1 %}"
    "{%- if add_vision_id %}Picture {{ image_count.value }}: {% endif -%}<|vision_start|><|image_pad|><|vision_end|>"
    "{%- elif content.type == 'video' or 'video' in content %}{%- set video_count.value = video_count.value + 1 %}"
    "{%- if add_vision_id %}Video {{ video_count.value }}: {% endif -%}<|vision_start|><|video_pad|><|vision_end|>"
    "{%- elif 'text' in content %}{{ content.text }}{%- endif %}{%- endfor %}{%- endif %}<|im_end|>\n"
    "{%- endif %}{%- endfor %}{%- if add_generation_prompt %}<|im_start|>assistant\n{%- endif %}"
)


def build_tiny_qwen3_vl(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    vision_depth: int = 2,
    bpe_vocab_size: int = 400,
    max_pixels: int = 16 * 32 * 32,
) -> Path:
    """Write a randomly initialised, loadable Qwen3-VL checkpoint to ``out_dir``.

    Args:
        out_dir: Output folder (created; existing checkpoint files are overwritten).
        seed: Seed for the weights; the same seed gives byte-identical files.
        hidden_size: Text hidden size (multiple of 16; 4 attention heads of ``hidden_size // 4``).
        num_layers: Decoder layers.
        vision_depth: Vision transformer blocks (each one feeds a DeepStack layer).
        bpe_vocab_size: BPE vocabulary size before the special tokens.
        max_pixels: Default pixel budget of the image/video processors (``size.longest_edge``).

    Returns:
        The checkpoint folder.

    Example:
        >>> import tempfile
        >>> from transformers import AutoConfig
        >>> AutoConfig.from_pretrained(build_tiny_qwen3_vl(tempfile.mkdtemp())).model_type
        'qwen3_vl'
    """
    check_sizes(hidden_size, num_layers, vision_depth, bpe_vocab_size)
    from transformers import (
        GenerationConfig,
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer, ids = qwen2_tokenizer(SPECIAL_TOKENS, bpe_vocab_size)
    head_dim = hidden_size // 4
    # Qwen3-VL's 24:20:20 split of head_dim / 2 (interleaved), scaled down
    t_section = head_dim // 2 * 24 // 64
    h_section = (head_dim // 2 - t_section) // 2
    config = Qwen3VLConfig(
        text_config={
            "vocab_size": padded_vocab(tokenizer),
            "hidden_size": hidden_size,
            "intermediate_size": hidden_size * 2,
            "num_hidden_layers": num_layers,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": head_dim,
            "max_position_embeddings": 32768,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 5000000.0,
                "mrope_section": [t_section, h_section, head_dim // 2 - t_section - h_section],
                "mrope_interleaved": True,
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
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": list(range(vision_depth)),
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
    save_seeded(
        Qwen3VLForConditionalGeneration,
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
    size = {"shortest_edge": 4 * 32 * 32, "longest_edge": max_pixels}
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=size, patch_size=16, merge_size=2, temporal_patch_size=2),
        tokenizer=tokenizer,
        video_processor=Qwen3VLVideoProcessor(size=size, patch_size=16, merge_size=2, temporal_patch_size=2, fps=2),
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
