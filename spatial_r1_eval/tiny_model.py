"""Write a tiny randomly initialised Qwen2.5-VL checkpoint that loads offline (tests, demos, CI).

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

import argparse
import logging
import os
from pathlib import Path

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

#: Small built-in training corpus for the tokenizer: question/answer vocabulary of SR and VSI-Bench.
_CORPUS: tuple[str, ...] = (
    "You are a helpful assistant. These are frames of a video.",
    "How many chairs are in this room? What is the size of this room (in square meters)?",
    "If multiple rooms are shown, estimate the size of the combined space.",
    "Measuring from the closest point of each object, what is the direct distance between the table and the sofa "
    "(in meters)?",
    "What is the length of the longest dimension (length, width, or height) of the bed, measured in centimeters?",
    "Measuring from the closest point of each object, which of these objects (chair, desk, lamp, door) is the "
    "closest to the window?",
    "If I am standing by the refrigerator and facing the sink, is the oven to my left, right, or back? "
    "An object is to my back if I would have to turn at least 135 degrees in order to face it.",
    "front-left front-right back-left back-right left right back",
    "What will be the first-time appearance order of the following categories in the video: cabinet, toilet, "
    "shower, mirror?",
    "You are a robot beginning at the bed facing the tv. You want to navigate to the trash can. You will perform "
    "the following actions: 1. Go forward until the desk 2. [please fill in] 3. Turn Left. Go forward until the "
    "trash can. Turn Right Turn Left Turn Back",
    "Answer with the option's letter from the given choices directly. Please answer the question using a single "
    "word or phrase. Options: A. B. C. D.",
    "Please think about this question as if you were a human pondering deeply. Engage in an internal dialogue "
    "using expressions such as 'let me think', 'wait', 'Hmm', 'oh, I see', 'let's break it down', etc, or other "
    "natural language thought expressions.",
    "Please provide your detailed reasoning between the <think> </think> tags, and then give your final answer "
    "between the <answer> </answer> tags. Please provide the numerical value (e.g., 42 or 3.14) within the "
    "<answer> </answer> tags.",
    "<think> Let me think. The table is near the wall, so the distance is about 1.5 meters. </think> "
    "<answer>1.5</answer> <answer>B</answer> <answer>42</answer>",
    "0 1 2 3 4 5 6 7 8 9 10 12 25 42 100 3.14 0.5 1.2 2.7 cm m meters square",
    "picture towel shelf backpack bathtub bookshelf counter curtain keyboard monitor pillow plant radiator "
    "stool suitcase telephone",
)


def _train_tokenizer(vocab_size: int):
    """Train a byte-level BPE on the built-in corpus with Qwen2's pre-tokenizer (deterministic)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(list(_CORPUS) * 4, trainer=trainer)
    return tok


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
    if hidden_size <= 0 or hidden_size % 16:
        raise ValueError(f"hidden_size must be a positive multiple of 16, got {hidden_size}")
    if num_layers < 1 or vision_depth < 1:
        raise ValueError(f"num_layers and vision_depth must be >= 1, got {num_layers}, {vision_depth}")
    if bpe_vocab_size < 256:
        raise ValueError(f"bpe_vocab_size must be >= 256 (the byte alphabet), got {bpe_vocab_size}")

    import json

    import torch
    from tokenizers import AddedToken
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2Tokenizer,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    # --- tokenizer: locally trained byte-level BPE, special tokens appended after the BPE vocabulary ---
    bpe = _train_tokenizer(bpe_vocab_size)
    model_json = json.loads(bpe.to_str())["model"]
    vocab: dict[str, int] = dict(model_json["vocab"])
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model_json["merges"]]
    for token in SPECIAL_TOKENS:
        vocab[token] = len(vocab)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        errors="replace",
        model_max_length=32768,
    )
    tokenizer.add_special_tokens(
        {"additional_special_tokens": [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS]}
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    vocab_size = len(tokenizer)
    # round the embedding matrix up like the released checkpoints (multiple of 64)
    padded_vocab = (vocab_size + 63) // 64 * 64

    # --- model config ---
    head_dim = hidden_size // 4
    # temporal/height/width rotary sections summing to head_dim / 2, in Qwen2.5-VL's 2:3:3 proportion
    t_section = head_dim // 8
    h_section = (head_dim // 2 - t_section) // 2
    mrope_section = [t_section, h_section, head_dim // 2 - t_section - h_section]
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": padded_vocab,
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
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).to(torch.float32).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=False,
    )
    model.save_pretrained(out, safe_serialization=True)

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``spatial-r1 tiny-model`` options."""
    parser.add_argument("--out", required=True, help="output folder for the checkpoint")
    parser.add_argument("--seed", type=int, default=0, help="weight seed (same seed -> identical files)")
    parser.add_argument("--hidden-size", type=int, default=64, help="text hidden size (multiple of 16)")
    parser.add_argument("--layers", type=int, default=2, help="decoder layers")
    parser.add_argument("--vision-depth", type=int, default=2, help="vision transformer blocks")


def run(args: argparse.Namespace) -> int:
    """Build the checkpoint and print its path."""
    path = build_tiny_qwen2_5_vl(
        args.out, seed=args.seed, hidden_size=args.hidden_size, num_layers=args.layers, vision_depth=args.vision_depth
    )
    print(path)  # noqa: T201 (CLI output)
    return 0
