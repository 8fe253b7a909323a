"""A tiny randomly initialised InternVL checkpoint in the transformers layout (``InternVLForConditionalGeneration``).

InternViT on 56x56 tiles (4x4 patches of 14 pixels, pixel-shuffled by 0.5: 4 ``<IMG_CONTEXT>`` tokens per tile or
video frame, each frame written ``FrameN: <img>…</img>``), a Qwen2 language model, the Qwen2 tokenizer recipe of the
other tiny models with InternVL's image tokens as named special tokens, and the InternVL3-hf chat template.
lmms-eval runs it with ``--model internvl_hf``.

Usage::

    spatial-r1 tiny-model --arch internvl --out /tmp/tiny-internvl
    lmms-eval --model internvl_hf --model_args pretrained=/tmp/tiny-internvl,device=cpu,device_map=cpu,num_frames=8 ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spatial_r1_eval.tiny_model._common import build_checkpoint, qwen2_text_config

#: Special tokens: Qwen2's chat tokens, then InternVL's image start/end/context and video placeholders.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<img>",
    "</img>",
    "<IMG_CONTEXT>",
    "<video>",
)

#: The chat template of OpenGVLab/InternVL3-*-hf (without its default system prompt).
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}{{ '<IMG_CONTEXT>\n' }}{% elif content['type'] == 'video' %}"
    "{{ '<video>\n' }}{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

#: Tile / frame side (pixels) of the tiny vision tower and processors.
IMAGE_SIZE = 56


#: InternVL's image tokens, as the tokenizer attributes InternVLProcessor reads.
NAMED_TOKENS = {
    "start_image_token": "<img>",
    "end_image_token": "</img>",
    "context_image_token": "<IMG_CONTEXT>",
    "video_token": "<video>",
}
#: ``<IMG_CONTEXT>`` tokens per tile or frame (pixel shuffle with downsample_ratio 0.5).
IMAGE_SEQ_LENGTH = (IMAGE_SIZE // 14) ** 2 // 4


def _config(tokenizer: Any, ids: Mapping[str, int], hidden_size: int, num_layers: int, vision_depth: int) -> Any:
    from transformers import InternVLConfig

    config = InternVLConfig(
        text_config=qwen2_text_config(tokenizer, ids, hidden_size, num_layers, model_type="qwen2"),
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": vision_depth,
            "num_attention_heads": 2,
            "image_size": [IMAGE_SIZE, IMAGE_SIZE],
            "patch_size": [14, 14],
        },
        image_token_id=ids["<IMG_CONTEXT>"],
        image_seq_length=IMAGE_SEQ_LENGTH,
        downsample_ratio=0.5,
        tie_word_embeddings=False,
    )
    config.pad_token_id = ids["<|endoftext|>"]
    return config


def _processor(tokenizer: Any) -> Any:
    from transformers import GotOcr2ImageProcessor, InternVLProcessor, InternVLVideoProcessor

    size = {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    return InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(size=size, crop_to_patches=False),
        tokenizer=tokenizer,
        video_processor=InternVLVideoProcessor(size=size),
        image_seq_length=IMAGE_SEQ_LENGTH,
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_internvl(out_dir: str | os.PathLike[str], seed: int = 0, **sizes: int) -> Path:
    """Write a randomly initialised, loadable InternVL (HF) checkpoint to ``out_dir`` (arguments as in
    :func:`~spatial_r1_eval.tiny_model._common.build_checkpoint`; ``vision_depth``: InternViT layers).

    >>> import tempfile
    >>> from transformers import AutoProcessor
    >>> processor = AutoProcessor.from_pretrained(build_tiny_internvl(tempfile.mkdtemp()))
    >>> type(processor).__name__, processor.image_seq_length
    ('InternVLProcessor', 4)
    """
    from transformers import InternVLForConditionalGeneration as model_cls

    return build_checkpoint(out_dir, seed, SPECIAL_TOKENS, model_cls, _config, _processor, NAMED_TOKENS, **sizes)
