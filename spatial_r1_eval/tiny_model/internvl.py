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
from pathlib import Path

from spatial_r1_eval.tiny_model._common import (
    chat_generation_config,
    check_sizes,
    qwen2_text_config,
    qwen2_tokenizer,
    save_seeded,
)

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


def build_tiny_internvl(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    vision_depth: int = 2,
    bpe_vocab_size: int = 400,
) -> Path:
    """Write a randomly initialised, loadable InternVL (HF) checkpoint to ``out_dir``.

    Args:
        out_dir: Output folder (created; existing checkpoint files are overwritten).
        seed: Seed for the weights; the same seed gives byte-identical files.
        hidden_size: Text hidden size (multiple of 16).
        num_layers: Decoder layers.
        vision_depth: InternViT layers.
        bpe_vocab_size: BPE vocabulary size before the special tokens.

    Returns:
        The checkpoint folder.

    Example:
        >>> import tempfile
        >>> from transformers import AutoConfig
        >>> AutoConfig.from_pretrained(build_tiny_internvl(tempfile.mkdtemp())).model_type
        'internvl'
    """
    check_sizes(hidden_size, num_layers, vision_depth, bpe_vocab_size)
    from transformers import (
        GotOcr2ImageProcessor,
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVideoProcessor,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    named = {
        "start_image_token": "<img>",
        "end_image_token": "</img>",
        "context_image_token": "<IMG_CONTEXT>",
        "video_token": "<video>",
    }
    tokenizer, ids = qwen2_tokenizer(SPECIAL_TOKENS, bpe_vocab_size, extra_special_tokens=named)
    image_seq_length = (IMAGE_SIZE // 14) ** 2 // 4  # pixel shuffle with downsample_ratio 0.5
    config = InternVLConfig(
        text_config=qwen2_text_config(tokenizer, ids, hidden_size, num_layers),
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": vision_depth,
            "num_attention_heads": 2,
            "image_size": [IMAGE_SIZE, IMAGE_SIZE],
            "patch_size": [14, 14],
        },
        image_token_id=ids["<IMG_CONTEXT>"],
        image_seq_length=image_seq_length,
        downsample_ratio=0.5,
        tie_word_embeddings=False,
    )
    config.pad_token_id = ids["<|endoftext|>"]
    save_seeded(
        InternVLForConditionalGeneration,
        config,
        out,
        seed,
        chat_generation_config(ids),
    )
    size = {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    processor = InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(size=size, crop_to_patches=False),
        tokenizer=tokenizer,
        video_processor=InternVLVideoProcessor(size=size),
        image_seq_length=image_seq_length,
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
