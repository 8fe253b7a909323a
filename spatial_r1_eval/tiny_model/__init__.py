"""Tiny randomly initialised MLLM checkpoints that load offline (tests, demos, CI): ``spatial-r1 tiny-model``.

One builder per architecture, each writing everything ``from_pretrained`` of the real transformers classes and
``AutoProcessor`` need (config, seeded safetensors weights, a byte-level BPE tokenizer trained locally on a small
built-in corpus with the architecture's special tokens, chat template, image/video processor configs). No network
access; the same seed gives byte-identical files.

======================  ==========================================  =====================================
``--arch``              transformers class                          lmms-eval ``--model``
======================  ==========================================  =====================================
``qwen2_5_vl``          ``Qwen2_5_VLForConditionalGeneration``      ``qwen2_5_vl``
``qwen3_vl``            ``Qwen3VLForConditionalGeneration``         ``qwen3_vl``
``llava_onevision``     ``LlavaOnevisionForConditionalGeneration``  ``llava_hf``
``internvl``            ``InternVLForConditionalGeneration``        ``internvl_hf``
======================  ==========================================  =====================================

Usage::

    spatial-r1 tiny-model --arch qwen3_vl --out /tmp/tiny-qwen3
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from spatial_r1_eval.tiny_model.internvl import build_tiny_internvl
from spatial_r1_eval.tiny_model.llava_onevision import build_tiny_llava_onevision
from spatial_r1_eval.tiny_model.qwen2_5_vl import CHAT_TEMPLATE, SPECIAL_TOKENS, build_tiny_qwen2_5_vl
from spatial_r1_eval.tiny_model.qwen3_vl import build_tiny_qwen3_vl

__all__ = [
    "ARCHS",
    "CHAT_TEMPLATE",
    "CPU_MODEL_ARGS",
    "LMMS_EVAL_FLAGS",
    "LMMS_EVAL_MODEL",
    "SPECIAL_TOKENS",
    "build_tiny_internvl",
    "build_tiny_llava_onevision",
    "build_tiny_model",
    "build_tiny_qwen2_5_vl",
    "build_tiny_qwen3_vl",
]

#: ``--arch`` -> builder.
ARCHS: dict[str, Callable[..., Path]] = {
    "qwen2_5_vl": build_tiny_qwen2_5_vl,
    "qwen3_vl": build_tiny_qwen3_vl,
    "llava_onevision": build_tiny_llava_onevision,
    "internvl": build_tiny_internvl,
}

#: ``--arch`` -> the lmms-eval backend (``--model``) that runs it.
LMMS_EVAL_MODEL: dict[str, str] = {
    "qwen2_5_vl": "qwen2_5_vl",
    "qwen3_vl": "qwen3_vl",
    "llava_onevision": "llava_hf",
    "internvl": "internvl_hf",
}

#: ``--arch`` -> the lmms-eval ``--model_args`` after ``pretrained=<checkpoint>,`` that run the tiny checkpoint on CPU
#: with the frame settings of the README's backend table ("Evaluating other models").
CPU_MODEL_ARGS: dict[str, str] = {
    "qwen2_5_vl": "device=cpu,device_map=cpu,max_num_frames=8,max_pixels=12544,min_pixels=3136",
    "qwen3_vl": "device=cpu,device_map=cpu,max_num_frames=8,max_pixels=16384,min_pixels=4096",
    "llava_onevision": "device=cpu,device_map=cpu,max_frames_num=16,dtype=float32",
    "internvl": "device=cpu,device_map=cpu,num_frames=16",
}

#: ``--arch`` -> further lmms-eval flags its backend needs (``llava_hf``'s chat class cannot take a video alone).
LMMS_EVAL_FLAGS: dict[str, tuple[str, ...]] = {"llava_onevision": ("--force_simple",)}


def build_tiny_model(arch: str, out_dir: str | os.PathLike[str], seed: int = 0, **sizes: int) -> Path:
    """Write the tiny checkpoint of ``arch`` (a key of :data:`ARCHS`) to ``out_dir``.

    Raises:
        ValueError: unknown ``arch`` (naming the known ones).

    >>> build_tiny_model("llama", "/tmp/x")
    Traceback (most recent call last):
    ...
    ValueError: unknown --arch 'llama' (known: qwen2_5_vl, qwen3_vl, llava_onevision, internvl)
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown --arch {arch!r} (known: {', '.join(ARCHS)})")
    return ARCHS[arch](out_dir, seed, **sizes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``spatial-r1 tiny-model`` options."""
    parser.add_argument("--arch", default="qwen2_5_vl", choices=list(ARCHS), help="architecture (default qwen2_5_vl)")
    parser.add_argument("--out", required=True, help="output folder for the checkpoint")
    parser.add_argument("--seed", type=int, default=0, help="weight seed (same seed -> identical files)")
    parser.add_argument("--hidden-size", type=int, default=64, help="text hidden size (multiple of 16)")
    parser.add_argument("--layers", type=int, default=2, help="decoder layers")
    parser.add_argument("--vision-depth", type=int, default=2, help="vision transformer blocks")


def run(args: argparse.Namespace) -> int:
    """Build the checkpoint and print its path."""
    path = build_tiny_model(
        args.arch,
        args.out,
        seed=args.seed,
        hidden_size=args.hidden_size,
        num_layers=args.layers,
        vision_depth=args.vision_depth,
    )
    print(path)  # noqa: T201 (CLI output)
    return 0
