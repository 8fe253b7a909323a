"""Shared parts of the tiny checkpoints: the build steps, a locally trained byte-level BPE tokenizer, configs.

Every architecture in :mod:`spatial_r1_eval.tiny_model` uses a Qwen2-style tokenizer (the text models of
Qwen2.5-VL, Qwen3-VL, LLaVA-OneVision-Qwen2 and InternVL3 are all Qwen2/Qwen3 LMs) trained offline on the small
built-in corpus below, with the architecture's special tokens appended after the BPE vocabulary.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

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


def check_sizes(hidden_size: int, num_layers: int, vision_depth: int, bpe_vocab_size: int) -> None:
    """Raise ValueError naming the bad size argument (shared by every builder).

    >>> check_sizes(64, 2, 2, 400)
    >>> check_sizes(60, 2, 2, 400)
    Traceback (most recent call last):
    ...
    ValueError: hidden_size must be a positive multiple of 16, got 60
    """
    if hidden_size <= 0 or hidden_size % 16:
        raise ValueError(f"hidden_size must be a positive multiple of 16, got {hidden_size}")
    if num_layers < 1 or vision_depth < 1:
        raise ValueError(f"num_layers and vision_depth must be >= 1, got {num_layers}, {vision_depth}")
    if bpe_vocab_size < 256:
        raise ValueError(f"bpe_vocab_size must be >= 256 (the byte alphabet), got {bpe_vocab_size}")


def qwen2_tokenizer(
    special_tokens: Sequence[str],
    bpe_vocab_size: int,
    *,
    eos_token: str = "<|im_end|>",
    pad_token: str = "<|endoftext|>",
    extra_special_tokens: Mapping[str, str] | None = None,
):
    """A ``Qwen2Tokenizer`` over the locally trained BPE, ``special_tokens`` appended in order as single ids.

    Args:
        special_tokens: The architecture's special tokens (their ids follow the BPE vocabulary, in this order).
        bpe_vocab_size: BPE vocabulary size before the special tokens.
        eos_token: End-of-turn token.
        pad_token: Padding token.
        extra_special_tokens: Named special tokens (``{"video_token": "<video>"}``) that processors read as
            tokenizer attributes (``tokenizer.video_token`` / ``tokenizer.video_token_id``).

    Returns:
        ``(tokenizer, ids)``: the tokenizer and ``{token: id}`` of the special tokens.
    """
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    bpe = _train_tokenizer(bpe_vocab_size)
    model_json = json.loads(bpe.to_str())["model"]
    vocab: dict[str, int] = dict(model_json["vocab"])
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model_json["merges"]]
    for token in special_tokens:
        vocab[token] = len(vocab)
    kwargs: dict[str, Any] = {}
    if extra_special_tokens:
        kwargs["extra_special_tokens"] = dict(extra_special_tokens)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token=eos_token,
        pad_token=pad_token,
        errors="replace",
        model_max_length=32768,
        **kwargs,
    )
    tokenizer.add_special_tokens(
        {"additional_special_tokens": [AddedToken(t, special=True, normalized=False) for t in special_tokens]},
        replace_extra_special_tokens=not extra_special_tokens,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in special_tokens}
    return tokenizer, ids


def padded_vocab(tokenizer: Any) -> int:
    """The embedding rows: ``len(tokenizer)`` rounded up to a multiple of 64, like the released checkpoints."""
    return (len(tokenizer) + 63) // 64 * 64


def save_seeded(model_cls: Any, config: Any, out: Path, seed: int, generation_config: Any) -> Any:
    """Initialise ``model_cls(config)`` under ``seed`` in float32 and save it (safetensors) to ``out``."""
    import torch

    torch.manual_seed(seed)
    model = model_cls(config).to(torch.float32).eval()
    model.generation_config = generation_config
    model.save_pretrained(out, safe_serialization=True)
    logger.info("wrote tiny %s (%d parameters) to %s", config.model_type, model.num_parameters(), out)
    return model


def qwen2_text_config(
    tokenizer: Any, ids: Mapping[str, int], hidden_size: int, num_layers: int, **extra: Any
) -> dict[str, Any]:
    """The tiny Qwen2-style language model config of every checkpoint, ``extra`` adding the architecture's keys
    (``model_type``, rotary settings)."""
    return {
        "vocab_size": padded_vocab(tokenizer),
        "hidden_size": hidden_size,
        "intermediate_size": hidden_size * 2,
        "num_hidden_layers": num_layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 32768,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        **extra,
    }


def qwen_vl_config(
    config_cls: Any,
    tokenizer: Any,
    ids: Mapping[str, int],
    hidden_size: int,
    num_layers: int,
    vision_depth: int,
    *,
    text: Mapping[str, Any],
    vision: Mapping[str, Any],
) -> Any:
    """A Qwen2.5-VL / Qwen3-VL config: the shared text and vision sizes and vision token ids, with the
    architecture's own text keys in ``text`` (rotary settings) and vision keys in ``vision`` (patch size, ...)."""
    config = config_cls(
        text_config=qwen2_text_config(tokenizer, ids, hidden_size, num_layers, **text),
        vision_config={
            "depth": vision_depth,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": hidden_size,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            **vision,
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
    return config


def chat_generation_config(ids: Mapping[str, int], **extra: int) -> Any:
    """Greedy decoding that stops at ``<|im_end|>`` or ``<|endoftext|>`` (pads with ``<|endoftext|>``)."""
    from transformers import GenerationConfig

    eos = [ids["<|im_end|>"], ids["<|endoftext|>"]]
    return GenerationConfig(eos_token_id=eos, pad_token_id=ids["<|endoftext|>"], do_sample=False, **extra)


def build_checkpoint(
    out_dir: str | os.PathLike[str],
    seed: int,
    special_tokens: Sequence[str],
    model_cls: Any,
    make_config: Callable[[Any, Mapping[str, int], int, int, int], Any],
    make_processor: Callable[[Any], Any],
    extra_special_tokens: Mapping[str, str] | None = None,
    *,
    generation_bos: bool = False,
    hidden_size: int = 64,
    num_layers: int = 2,
    vision_depth: int = 2,
    bpe_vocab_size: int = 400,
) -> Path:
    """Write one tiny checkpoint: the steps every architecture shares, its own parts passed in.

    Checks the sizes, trains the tokenizer, initialises the model under ``seed`` and saves it with its generation
    config, then saves the processor and the tokenizer.

    Args:
        out_dir: Output folder (created; existing checkpoint files are overwritten).
        seed: Seed for the weights; the same seed gives byte-identical files.
        special_tokens: The architecture's special tokens (ids after the BPE vocabulary, in this order).
        model_cls: The transformers model class (``...ForConditionalGeneration``).
        make_config: ``(tokenizer, ids, hidden_size, num_layers, vision_depth) -> config``.
        make_processor: ``tokenizer -> processor`` (image/video processors and the chat template).
        extra_special_tokens: Named special tokens the processor reads from the tokenizer (:func:`qwen2_tokenizer`).
        generation_bos: Also write ``bos_token_id`` to ``generation_config.json`` (as the Qwen-VL releases do).
        hidden_size: Text hidden size (multiple of 16; 4 attention heads of ``hidden_size // 4``).
        num_layers: Decoder layers.
        vision_depth: Vision encoder blocks.
        bpe_vocab_size: BPE vocabulary size before the special tokens (>= 256, the byte alphabet).

    Returns:
        The checkpoint folder.

    Raises:
        ValueError: a bad size (:func:`check_sizes`).
    """
    check_sizes(hidden_size, num_layers, vision_depth, bpe_vocab_size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer, ids = qwen2_tokenizer(special_tokens, bpe_vocab_size, extra_special_tokens=extra_special_tokens)
    config = make_config(tokenizer, ids, hidden_size, num_layers, vision_depth)
    bos = {"bos_token_id": ids["<|endoftext|>"]} if generation_bos else {}
    save_seeded(model_cls, config, out, seed, chat_generation_config(ids, **bos))
    make_processor(tokenizer).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
