"""A tiny randomly initialised LLaVA-OneVision checkpoint (HF ``LlavaOnevisionForConditionalGeneration``).

SigLIP vision tower on 56x56 frames (4x4 patches of 14 pixels, pooled 2x2 for video: 4 tokens per frame and one
newline token per video), a Qwen2 language model, the Qwen2 tokenizer recipe of the other tiny models with
``<image>``/``<video>`` added, and the llava-hf OneVision chat template. lmms-eval runs it with ``--model llava_hf``.

Usage::

    spatial-r1 tiny-model --arch llava_onevision --out /tmp/tiny-llava-ov
    lmms-eval --model llava_hf --model_args pretrained=/tmp/tiny-llava-ov,device=cpu,device_map=cpu,dtype=float32 ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spatial_r1_eval.tiny_model._common import build_checkpoint, qwen2_text_config

#: Special tokens: Qwen2's chat tokens, then the image and video placeholders.
SPECIAL_TOKENS: tuple[str, ...] = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>")

#: The chat template of llava-hf/llava-onevision-qwen2-*-hf (images, then videos, then text of each turn).
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + ' ' }}"
    "{% if message['content'] is string %}{{ '\n' + message['content'] }}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\n' + content['text'] }}"
    "{% endfor %}{% endif %}{{ '<|im_end|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

#: Frame side (pixels) of the tiny vision tower and processors.
IMAGE_SIZE = 56


#: The any-resolution grid: one to two frames high and wide.
PINPOINTS = [[IMAGE_SIZE * h, IMAGE_SIZE * w] for h in (1, 2) for w in (1, 2)]


def _config(tokenizer: Any, ids: Mapping[str, int], hidden_size: int, num_layers: int, vision_depth: int) -> Any:
    from transformers import LlavaOnevisionConfig

    config = LlavaOnevisionConfig(
        text_config=qwen2_text_config(tokenizer, ids, hidden_size, num_layers, model_type="qwen2"),
        vision_config={
            "model_type": "siglip_vision_model",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": vision_depth,
            "num_attention_heads": 2,
            "image_size": IMAGE_SIZE,
            "patch_size": 14,
        },
        image_token_index=ids["<image>"],
        video_token_index=ids["<video>"],
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        image_grid_pinpoints=PINPOINTS,
        vision_aspect_ratio="anyres_max_9",
        tie_word_embeddings=False,
    )
    config.pad_token_id = ids["<|endoftext|>"]
    return config


def _processor(tokenizer: Any) -> Any:
    from transformers import LlavaOnevisionImageProcessor, LlavaOnevisionProcessor, LlavaOnevisionVideoProcessor

    size = {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    return LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=PINPOINTS),
        tokenizer=tokenizer,
        video_processor=LlavaOnevisionVideoProcessor(size=size),
        num_image_tokens=(IMAGE_SIZE // 14) ** 2,
        vision_feature_select_strategy="full",
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_llava_onevision(out_dir: str | os.PathLike[str], seed: int = 0, **sizes: int) -> Path:
    """Write a randomly initialised, loadable LLaVA-OneVision (HF) checkpoint to ``out_dir`` (arguments as in
    :func:`~spatial_r1_eval.tiny_model._common.build_checkpoint`; ``vision_depth``: SigLIP encoder layers).

    >>> import tempfile
    >>> from transformers import AutoConfig
    >>> config = AutoConfig.from_pretrained(build_tiny_llava_onevision(tempfile.mkdtemp()))
    >>> config.model_type, config.vision_config.image_size
    ('llava_onevision', 56)
    """
    from transformers import LlavaOnevisionForConditionalGeneration as model_cls

    return build_checkpoint(out_dir, seed, SPECIAL_TOKENS, model_cls, _config, _processor, **sizes)
