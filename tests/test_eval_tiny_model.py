"""The tiny Qwen2.5-VL checkpoint: loads offline with the real transformers classes, generates on a video."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from spatial_r1_eval.tiny_model import SPECIAL_TOKENS, build_tiny_qwen2_5_vl


def _write_video(path: Path, n_frames: int = 24, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(n_frames):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("tiny") / "ckpt", seed=0)


def test_same_seed_gives_identical_files_and_other_seed_other_weights(tiny_dir: Path, tmp_path: Path) -> None:
    again = build_tiny_qwen2_5_vl(tmp_path / "again", seed=0)
    names = sorted(p.name for p in tiny_dir.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (tiny_dir / name).read_bytes() == (again / name).read_bytes(), name
    other = build_tiny_qwen2_5_vl(tmp_path / "other", seed=1)
    assert (other / "model.safetensors").read_bytes() != (tiny_dir / "model.safetensors").read_bytes()
    assert (other / "tokenizer.json").read_bytes() == (tiny_dir / "tokenizer.json").read_bytes()


def test_loads_and_generates_on_a_video(tiny_dir: Path, tmp_path: Path) -> None:
    import torch
    from qwen_vl_utils import process_vision_info
    from transformers import AutoProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(tiny_dir, device_map="cpu").eval()
    processor = AutoProcessor.from_pretrained(tiny_dir, max_pixels=12544, min_pixels=3136)
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    for token in SPECIAL_TOKENS:  # every Qwen2.5-VL special token is one id, never split
        assert tokenizer.tokenize(token) == [token]
    assert model.config.video_token_id == tokenizer.convert_tokens_to_ids("<|video_pad|>")
    assert tokenizer.eos_token == "<|im_end|>"

    video = _write_video(tmp_path / "v.mp4")
    messages = [
        [
            {"role": "system", "content": "You are a helpful assistant."},
            {
                "role": "user",
                "content": [{"type": "video", "video": str(video)}, {"type": "text", "text": "How many?"}],
            },
        ]
    ]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text[0].endswith("<|im_start|>assistant\n") and "<|vision_start|><|video_pad|><|vision_end|>" in text[0]
    images, videos = process_vision_info(messages)
    inputs = processor(text=text, images=images, videos=videos, return_tensors="pt")
    assert int((inputs["input_ids"] == model.config.video_token_id).sum()) > 0
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    new = out[0, inputs["input_ids"].shape[1] :]
    assert 1 <= new.numel() <= 8
    assert isinstance(processor.batch_decode(new[None], skip_special_tokens=True)[0], str)


def test_cli_writes_checkpoint(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spatial_r1_eval", "tiny-model", "--out", str(tmp_path / "m"), "--seed", "3"],
        capture_output=True,
        text=True,
        env={"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "m")
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja", "processor_config.json"} <= {
        p.name for p in (tmp_path / "m").iterdir()
    }


@pytest.mark.parametrize(
    ("arch", "model_class"),
    [
        ("qwen3_vl", "Qwen3VLForConditionalGeneration"),
        ("llava_onevision", "LlavaOnevisionForConditionalGeneration"),
        ("internvl", "InternVLForConditionalGeneration"),
    ],
)
def test_other_archs_are_deterministic_and_load_with_their_transformers_class(
    arch: str, model_class: str, tmp_path: Path
) -> None:
    import transformers
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from spatial_r1_eval.tiny_model import build_tiny_model

    first, again = build_tiny_model(arch, tmp_path / "a", seed=0), build_tiny_model(arch, tmp_path / "b", seed=0)
    for path in sorted(first.iterdir()):
        assert path.read_bytes() == (again / path.name).read_bytes(), path.name
    model = AutoModelForImageTextToText.from_pretrained(first)
    assert type(model) is getattr(transformers, model_class)
    tokenizer = AutoProcessor.from_pretrained(first).tokenizer
    assert tokenizer.eos_token == "<|im_end|>" and model.config.get_text_config().vocab_size >= len(tokenizer)


def test_cli_arch_choice_and_unknown_arch(tmp_path: Path) -> None:
    env = {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "spatial_r1_eval", "tiny-model", "--out", str(tmp_path / "m")]
    proc = subprocess.run([*cmd, "--arch", "internvl"], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '"model_type": "internvl"' in (tmp_path / "m" / "config.json").read_text()
    bad = subprocess.run([*cmd, "--arch", "llama"], capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 2 and "invalid choice: 'llama'" in bad.stderr
