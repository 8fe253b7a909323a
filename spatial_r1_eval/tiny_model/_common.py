"""Shared parts of the tiny checkpoints: a locally trained byte-level BPE tokenizer and seeded saving.

Every architecture in :mod:`spatial_r1_eval.tiny_model` uses a Qwen2-style tokenizer (the text models of
Qwen2.5-VL, Qwen3-VL, LLaVA-OneVision-Qwen2 and InternVL3 are all Qwen2/Qwen3 LMs) trained offline on the small
built-in corpus below, with the architecture's special tokens appended after the BPE vocabulary.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
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


def qwen2_text_config(tokenizer: Any, ids: Mapping[str, int], hidden_size: int, num_layers: int) -> dict[str, Any]:
    """The tiny Qwen2 language model config of the LLaVA-OneVision and InternVL checkpoints."""
    return {
        "model_type": "qwen2",
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
    }


def chat_generation_config(ids: Mapping[str, int]) -> Any:
    """Greedy decoding that stops at ``<|im_end|>`` or ``<|endoftext|>`` (pads with ``<|endoftext|>``)."""
    from transformers import GenerationConfig

    eos = [ids["<|im_end|>"], ids["<|endoftext|>"]]
    return GenerationConfig(eos_token_id=eos, pad_token_id=ids["<|endoftext|>"], do_sample=False)
