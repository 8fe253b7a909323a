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
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from spatial_r1_eval.tiny_model._common import build_checkpoint, qwen_vl_config
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


def _config(tokenizer: Any, ids: Mapping[str, int], hidden_size: int, num_layers: int, vision_depth: int) -> Any:
    from transformers import Qwen3VLConfig

    head_dim = hidden_size // 4
    # Qwen3-VL's 24:20:20 split of head_dim / 2 (interleaved), scaled down
    t_section = head_dim // 2 * 24 // 64
    h_section = (head_dim // 2 - t_section) // 2
    rope = {
        "rope_type": "default",
        "rope_theta": 5000000.0,
        "mrope_section": [t_section, h_section, head_dim // 2 - t_section - h_section],
        "mrope_interleaved": True,
    }
    text = {"head_dim": head_dim, "rope_parameters": rope}
    vision = {"patch_size": 16, "num_position_embeddings": 64, "deepstack_visual_indexes": list(range(vision_depth))}
    return qwen_vl_config(
        Qwen3VLConfig, tokenizer, ids, hidden_size, num_layers, vision_depth, text=text, vision=vision
    )


def _processor(tokenizer: Any, max_pixels: int) -> Any:
    from transformers import Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    size = {"shortest_edge": 4 * 32 * 32, "longest_edge": max_pixels}
    patches = {"patch_size": 16, "merge_size": 2, "temporal_patch_size": 2}
    return Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=size, **patches),
        tokenizer=tokenizer,
        video_processor=Qwen3VLVideoProcessor(size=size, **patches, fps=2),
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_qwen3_vl(
    out_dir: str | os.PathLike[str], seed: int = 0, *, max_pixels: int = 16 * 32 * 32, **sizes: int
) -> Path:
    """Write a randomly initialised, loadable Qwen3-VL checkpoint to ``out_dir`` (``out_dir``, ``seed`` and
    ``**sizes`` as in :func:`~spatial_r1_eval.tiny_model._common.build_checkpoint`; every vision block feeds a
    DeepStack layer).

    Args:
        max_pixels: Default pixel budget of the image/video processors (``size.longest_edge``).

    Example:
        >>> import json, tempfile
        >>> config = json.loads((build_tiny_qwen3_vl(tempfile.mkdtemp()) / "config.json").read_text())
        >>> config["model_type"], config["vision_config"]["deepstack_visual_indexes"]
        ('qwen3_vl', [0, 1])
    """
    from transformers import Qwen3VLForConditionalGeneration as model_cls

    processor = partial(_processor, max_pixels=max_pixels)
    return build_checkpoint(out_dir, seed, SPECIAL_TOKENS, model_cls, _config, processor, generation_bos=True, **sizes)
