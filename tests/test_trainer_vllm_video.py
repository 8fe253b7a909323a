"""vLLM video rollouts: what vLLM samples from must be what the trainer scores.

* Without vLLM (CI): the request wiring and the errors.
* With vLLM installed (``pip install 'spatial-r1-eval[gpu]'``; vLLM's multimodal processor runs on CPU): vLLM's own
  Qwen2.5-VL processor, given our request, rebuilds the training prompt token for token and the same
  ``video_grid_thw``, ``second_per_grid_ts`` and pixels. Written against vLLM 0.33 (its processor API moves between
  releases: a failure here after a vLLM upgrade means the rollout inputs must be checked again). Then one GRPO step
  through TRL's colocate code with a CPU stand-in for vLLM's engine, in one process and in two (tensor parallel 2).
* With vLLM and a CUDA GPU: one GRPO step with colocated vLLM rollouts on a tiny Qwen2.5-VL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


def _vllm_or_skip():
    return pytest.importorskip("vllm", reason="vLLM is not installed (optional 'gpu' extra)")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from spatial_r1_eval.tiny_model import build_tiny_qwen2_5_vl

    return Path(build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("tiny") / "model", seed=0))


@pytest.fixture(scope="module")
def sr_rows(tmp_path_factory) -> list[dict]:
    from spatial_r1_eval.trainer.data import load_sr_train, write_sample_sr_train

    dataset = load_sr_train(write_sample_sr_train(tmp_path_factory.mktemp("sr_train"), n_videos=2))
    return [dataset[0], dataset[len(dataset) - 1]]


def _prompt_text(processor, row: dict) -> str:
    from spatial_r1_eval.trainer.video_grpo import _with_video_block

    return processor.apply_chat_template(_with_video_block(row["prompt"]), tokenize=False, add_generation_prompt=True)


def test_requests_carry_each_rows_video_in_order_and_collapse_the_placeholder(tiny_model, sr_rows):
    from transformers import AutoProcessor

    from spatial_r1_eval.trainer.video_inputs import VideoBudget, load_video_frames, video_model_inputs
    from spatial_r1_eval.trainer.vllm_video import VideoRequestLLM, vllm_video_item

    processor = AutoProcessor.from_pretrained(tiny_model)
    pad = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    budget = VideoBudget(frames=4, max_pixels=4 * 28 * 28)
    prompts, videos, expected = [], [], []
    for row in sr_rows:
        frames, fps = load_video_frames(row["video"], budget)
        ids = video_model_inputs(processor, _prompt_text(processor, row), frames, fps)["input_ids"][0].tolist()
        prompts.append({"prompt_token_ids": ids})
        videos.append(vllm_video_item(frames, fps))
        expected.append((ids, frames))

    class Recorder:  # stands in for vllm.LLM: records what reaches it
        def generate(self, requests, sampling_params=None, use_tqdm=False):
            self.requests = requests
            return ["out"] * len(requests)

    llm = VideoRequestLLM(Recorder(), video_pad_token_id=pad)
    with llm.videos(videos):
        assert llm.generate(prompts, sampling_params=None, use_tqdm=False) == ["out", "out"]
    for request, (ids, frames) in zip(llm.wrapped.requests, expected, strict=True):
        first = ids.index(pad)
        n_pad = ids.count(pad)
        assert n_pad > 1
        assert request["prompt_token_ids"] == ids[: first + 1] + ids[first + n_pad :]
        sent_frames, meta = request["multi_modal_data"]["video"]
        assert sent_frames is frames and meta["total_num_frames"] == len(frames)
        assert request["mm_processor_kwargs"] == {"do_sample_frames": False, "do_resize": False}
    with pytest.raises(RuntimeError, match="2 vLLM prompts for 1 pending videos"), llm.videos(videos[:1]):
        llm.generate(prompts)
    assert llm.generate([{"prompt_token_ids": [1, 2]}]) == ["out"]  # nothing pending: passes through untouched
    assert llm.wrapped.requests == [{"prompt_token_ids": [1, 2]}]


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ({"prompt_token_ids": [1, 2, 3]}, "needs one <|video_pad|> placeholder"),
        ({"prompt_token_ids": [1, 7, 2, 7]}, r"found 2"),
        ({"prompt_token_ids": [1, 7], "multi_modal_data": {"image": object()}}, "already has multimodal data"),
    ],
)
def test_bad_video_prompts_are_clear_errors(prompt, message):
    from spatial_r1_eval.trainer.vllm_video import vllm_video_item, with_video

    with pytest.raises(ValueError, match=message):
        with_video(prompt, vllm_video_item(torch.zeros(2, 3, 28, 28), 1.0), video_pad_token_id=7)


def test_vllm_server_mode_is_rejected_before_connecting(tmp_path):
    from trl import GRPOConfig

    from spatial_r1_eval.trainer.video_grpo import VideoGRPOTrainer

    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, use_vllm=True, vllm_mode="server", report_to="none")
    with pytest.raises(ValueError, match="vllm_mode='server'.*set vllm_mode: colocate"):
        VideoGRPOTrainer(model="unused", reward_funcs=[], args=args)


def _vllm_processor(model_dir: Path):
    _vllm_or_skip()
    from vllm.config import ModelConfig
    from vllm.multimodal import MULTIMODAL_REGISTRY

    config = ModelConfig(model=str(model_dir), dtype="float32", max_model_len=4096)
    return config, MULTIMODAL_REGISTRY.create_processor(config)


def _vllm_apply(processor, request: dict):
    """vLLM's multimodal input processing of one token prompt, as its renderer runs it for ``LLM.generate``."""
    from vllm.multimodal.processing import ProcessorInputs
    from vllm.multimodal.processing.context import TimingContext

    items = processor.info.parse_mm_data(request["multi_modal_data"])
    inputs = ProcessorInputs(request["prompt_token_ids"], items, None, request["mm_processor_kwargs"])
    return processor.apply(inputs, TimingContext())


def _model_pixels(config, video_processor, pixels: torch.Tensor) -> torch.Tensor:
    """The pixels the model sees from vLLM's processed ``pixel_values_videos`` ``[patches, 3 * rest]``: vLLM leaves
    rescaling and normalisation to the GPU when ``mm_device_do_normalize`` is on, so they are applied here."""
    pixels = pixels.float()
    if not config.multimodal_config.mm_device_do_normalize:
        return pixels
    mean = torch.tensor(video_processor.image_mean).view(1, 3, 1)
    std = torch.tensor(video_processor.image_std).view(1, 3, 1)
    return ((pixels.view(pixels.size(0), 3, -1) / 255.0 - mean) / std).view_as(pixels)


@pytest.mark.parametrize(("frames", "max_pixels"), [(2, 4 * 28 * 28), (4, 4 * 28 * 28), (4, 12 * 28 * 28)])
def test_vllm_rebuilds_the_training_inputs_from_our_request(tiny_model, sr_rows, frames, max_pixels):
    config, vllm_processor = _vllm_processor(tiny_model)
    from transformers import AutoProcessor

    from spatial_r1_eval.trainer.video_inputs import VideoBudget, load_video_frames, video_model_inputs
    from spatial_r1_eval.trainer.vllm_video import vllm_video_item, with_video

    processor = AutoProcessor.from_pretrained(tiny_model)
    pad = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    video_processor = processor.video_processor
    for row in sr_rows:
        clip, fps = load_video_frames(row["video"], VideoBudget(frames=frames, max_pixels=max_pixels))
        ours = video_model_inputs(processor, _prompt_text(processor, row), clip, fps)
        ids = ours["input_ids"][0].tolist()
        request = with_video({"prompt_token_ids": ids}, vllm_video_item(clip, fps), pad)
        out = _vllm_apply(vllm_processor, request)

        assert out["prompt_token_ids"] == ids  # vLLM's expansion gives back the training prompt
        (placeholder,) = out["mm_placeholders"]["video"]
        assert (placeholder.offset, placeholder.length) == (ids.index(pad), ids.count(pad))
        (item,) = out["mm_kwargs"]["video"]
        assert item["video_grid_thw"].data.tolist() == ours["video_grid_thw"][0].tolist()
        assert float(item["second_per_grid_ts"].data) == pytest.approx(float(ours["second_per_grid_ts"][0]))
        pixels = _model_pixels(config, video_processor, item["pixel_values_videos"].data)
        torch.testing.assert_close(pixels, ours["pixel_values_videos"].float(), rtol=1e-5, atol=1e-5)


class _CpuEngineLLM:
    """Stands in for ``vllm.LLM`` on CPU, where vLLM's engine cannot run: each request goes through vLLM's real
    input processing (its Qwen2.5-VL multimodal processor, as the renderer runs it), then the transformers model
    samples from the inputs vLLM built, with vLLM's sampling semantics (logit bias, temperature, processed
    log-probs). TRL's colocate code around it (sampling params, weight sync, log-prob extraction, importance
    sampling) is TRL's own."""

    instances: list[_CpuEngineLLM] = []

    def __init__(self, model: str, **kwargs):
        from types import SimpleNamespace

        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.config, self.processor = _vllm_processor(Path(model))
        self.hf_model = AutoModelForImageTextToText.from_pretrained(model, dtype=torch.float32).eval()
        hf_processor = AutoProcessor.from_pretrained(model)
        self.video_processor = hf_processor.video_processor
        self.pad = hf_processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
        self.eos = {hf_processor.tokenizer.eos_token_id}
        runner = SimpleNamespace(model=SimpleNamespace(load_weights=self._load_weights))
        executor = SimpleNamespace(driver_worker=SimpleNamespace(model_runner=runner))
        self.llm_engine = SimpleNamespace(model_config=self.config, model_executor=executor)
        self.requests: list[dict] = []
        self.synced = 0
        self.max_bias_shift = 0.0  # largest log-prob shift the logit bias causes (renormalisation)
        self.generator = torch.Generator().manual_seed(0)
        _CpuEngineLLM.instances.append(self)

    def _load_weights(self, weights):
        params = dict(self.hf_model.named_parameters())
        for name, tensor in weights:
            params[name].data.copy_(tensor)
            self.synced += 1

    def reset_prefix_cache(self):
        return True

    def model_inputs(self, processed: dict) -> dict:
        (item,) = processed["mm_kwargs"]["video"]
        pixels = _model_pixels(self.config, self.video_processor, item["pixel_values_videos"].data)
        return {
            "pixel_values_videos": pixels,
            "video_grid_thw": item["video_grid_thw"].data.view(1, 3),
            "second_per_grid_ts": item["second_per_grid_ts"].data.view(1),
        }

    def logits(self, ids: list[int], video: dict) -> torch.Tensor:
        input_ids = torch.tensor([ids])
        with torch.no_grad():
            return (
                self.hf_model(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    mm_token_type_ids=(input_ids == self.pad).long() * 2,
                    **video,
                )
                .logits[0, -1]
                .float()
            )

    def generate(self, requests, sampling_params=None, use_tqdm=False):
        from types import SimpleNamespace

        from vllm.logprobs import Logprob

        outputs = []
        for request in requests:
            self.requests.append(request)
            processed = _vllm_apply(self.processor, request)
            ids, video = list(processed["prompt_token_ids"]), self.model_inputs(processed)
            tokens, logprobs = [], []
            for _ in range(sampling_params.max_tokens):
                logits = self.logits(ids + tokens, video)
                raw = torch.log_softmax(logits / sampling_params.temperature, dim=-1)
                for token, bias in (sampling_params.logit_bias or {}).items():
                    logits[int(token)] += bias
                logp = torch.log_softmax(logits / sampling_params.temperature, dim=-1)
                biased = [int(t) for t in sampling_params.logit_bias or {}]
                shift = -float(torch.log1p(-raw[biased].exp().sum())) if biased else 0.0
                self.max_bias_shift = max(self.max_bias_shift, shift)
                token = int(torch.multinomial(logp.exp(), 1, generator=self.generator))
                tokens.append(token)
                logprobs.append({token: Logprob(logprob=float(logp[token]), rank=1)})
                if token in self.eos:
                    break
            completion = SimpleNamespace(token_ids=tokens, logprobs=logprobs)
            outputs.append(SimpleNamespace(prompt_token_ids=ids, outputs=[completion]))
        return outputs


@pytest.fixture(scope="module")
def sharp_tiny_model(tiny_model) -> Path:
    """The tiny model with query/key weights x 8, so that its log-probs clearly depend on the video (the plain
    random one barely looks at it, which would make a wrong video go unnoticed)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model = AutoModelForImageTextToText.from_pretrained(tiny_model, dtype=torch.float32)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("q_proj.weight", "k_proj.weight")):
                param.mul_(8.0)
    sharp = tiny_model.parent / "sharp"
    model.save_pretrained(sharp)
    AutoProcessor.from_pretrained(tiny_model).save_pretrained(sharp)
    return sharp


def test_grpo_step_through_trls_vllm_colocate_path_samples_from_the_training_inputs(
    sharp_tiny_model, tmp_path, monkeypatch
):
    """A whole GRPO step on CPU through TRL's colocated-vLLM code with vLLM's real input processing: the log-probs
    of vLLM-side sampling equal the trainer's on its own video inputs (TRL logs the largest difference), up to the
    renormalisation by the vision-token logit bias, so rollouts and training see the same prompt and video."""
    _vllm_or_skip()
    import trl.generation.vllm_generation as trl_vllm

    from spatial_r1_eval.commands.cli import main

    monkeypatch.setattr(trl_vllm, "LLM", _CpuEngineLLM)
    _CpuEngineLLM.instances.clear()
    out = tmp_path / "run"
    argv = ["train", "--config", str(REPO / "trainer" / "recipes" / "smoke.yaml"), "--",
            "--output_dir", str(out), "--model_name_or_path", str(sharp_tiny_model), "--rollouts", "vllm",
            "--vllm_mode", "colocate", "--max_steps", "1", "--save_strategy", "no",
            "--max_completion_length", "8"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads((out / "train_summary.json").read_text())["rollouts"] == "vllm"
    (engine,) = _CpuEngineLLM.instances
    assert engine.synced > 0  # TRL pushed the training weights before sampling
    assert len(engine.requests) == 8  # 2 prompts x 4 generations, each with its video
    assert all(r["prompt_token_ids"].count(engine.pad) == 1 for r in engine.requests)
    assert all(isinstance(r["multi_modal_data"]["video"], tuple) for r in engine.requests)
    state = json.loads((out / "trainer_state.json").read_text())
    (logs,) = [e for e in state["log_history"] if "sampling/sampling_logp_difference/max" in e]
    assert 0 < engine.max_bias_shift < 0.1
    assert logs["sampling/sampling_logp_difference/max"] <= engine.max_bias_shift + 1e-4, logs


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_tensor_parallel_ranks_hand_vllm_the_videos_of_the_gathered_prompts(sharp_tiny_model, tmp_path):
    """Two CPU processes (gloo) with ``vllm_tensor_parallel_size: 2``: TRL gathers the prompts of both ranks and every
    rank's engine generates all of them, so each rank must attach the videos of the other rank's rows too, in TRL's
    order. The CPU engine (this file run as a script under ``torchrun``) samples from what vLLM's
    processor builds; its log-probs match the trainer's on each rank's own rows only if every video went with its
    prompt."""
    _vllm_or_skip()
    import subprocess
    import sys

    from spatial_r1_eval.trainer.data import write_sample_sr_train

    data = write_sample_sr_train(tmp_path / "sr", n_videos=4)  # 4 videos x the same 4 questions: prompts repeat
    out = tmp_path / "run"
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
              "--master_port", str(_free_port()), __file__]  # fmt: skip
    argv = ["train", "--config", str(REPO / "trainer" / "recipes" / "smoke.yaml"), "--",
            "--output_dir", str(out), "--model_name_or_path", str(sharp_tiny_model), "--dataset_path", str(data),
            "--rollouts", "vllm", "--vllm_mode", "colocate", "--vllm_tensor_parallel_size", "2",
            "--max_steps", "1", "--save_strategy", "no", "--max_completion_length", "8"]  # fmt: skip
    run = subprocess.run(
        launch + argv, capture_output=True, text=True, timeout=600, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert run.stdout.count("mean reward per task over the run:") == 1, run.stdout  # printed by rank 0 only
    engines = [json.loads((out / f"cpu_engine_rank{rank}.json").read_text()) for rank in range(2)]
    # each rank generated both ranks' prompts (2 x 2 prompts x 4 generations), with the same prompts and videos
    assert [len(e["requests"]) for e in engines] == [16, 16]
    assert engines[0]["requests"] == engines[1]["requests"]
    videos = [r["video"] for r in engines[0]["requests"]]
    assert videos[:8] != videos[8:]  # the ranks' rows have different videos: a mix-up would show in the log-probs
    state = json.loads((out / "trainer_state.json").read_text())
    (logs,) = [e for e in state["log_history"] if "sampling/sampling_logp_difference/max" in e]
    bound = max(e["max_bias_shift"] for e in engines)
    assert 0 < bound < 0.1
    assert logs["sampling/sampling_logp_difference/max"] <= bound + 1e-4, logs


@pytest.mark.skipif(not torch.cuda.is_available(), reason="vLLM rollouts need a CUDA GPU")
def test_one_grpo_step_with_colocated_vllm_video_rollouts(tmp_path, capsys):
    """Never run in CI (no GPU there): the smoke recipe with ``use_vllm: true`` on one GPU."""
    _vllm_or_skip()
    from spatial_r1_eval.commands.cli import main

    out = tmp_path / "run"
    argv = ["train", "--config", str(REPO / "trainer" / "recipes" / "smoke.yaml"), "--",
            "--output_dir", str(out), "--use_cpu", "false", "--rollouts", "vllm", "--vllm_mode", "colocate",
            "--vllm_gpu_memory_utilization", "0.2", "--vllm_max_model_length", "2048", "--max_steps", "1",
            "--save_strategy", "no"]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["global_step"] == 1 and summary["per_task_rewards"]["accuracy"]
    assert summary["rollouts"] == "vllm"
    state = json.loads((out / "trainer_state.json").read_text())
    # vLLM sampled from the trainer's inputs: per-token log-probs agree up to kernel noise and the logit-bias shift
    diffs = [
        e["sampling/sampling_logp_difference/mean"]
        for e in state["log_history"]
        if "sampling/sampling_logp_difference/mean" in e
    ]
    assert diffs and all(d < 0.05 for d in diffs), diffs


if __name__ == "__main__":  # one rank of the tensor-parallel test above, under ``torchrun``
    import hashlib
    import sys

    import trl.generation.vllm_generation as trl_vllm

    from spatial_r1_eval.commands.cli import main

    trl_vllm.LLM = _CpuEngineLLM
    code = main(sys.argv[1:])
    if code != 0:
        sys.exit(code)
    (engine,) = _CpuEngineLLM.instances
    requests = [
        {
            "prompt_token_ids": list(r["prompt_token_ids"]),
            "video": hashlib.sha256(r["multi_modal_data"]["video"][0].numpy().tobytes()).hexdigest(),
        }
        for r in engine.requests
    ]
    rank = int(os.environ["RANK"])
    output_dir = Path(sys.argv[sys.argv.index("--output_dir") + 1])
    report = {"requests": requests, "max_bias_shift": engine.max_bias_shift}
    (output_dir / f"cpu_engine_rank{rank}.json").write_text(json.dumps(report))
    sys.exit(code)
