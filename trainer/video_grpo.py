"""GRPO on video for Qwen2.5-VL: TRL's ``GRPOTrainer`` with real video in generation and in every log-prob pass.

TRL's ``GRPOTrainer`` passes images to vision-language models but not video (TRL issue 5373). This subclass adds
the video path and nothing else: every dataset row carries a ``video`` column (a path to an mp4), the trainer
samples its frames (:mod:`spatial_r1_eval.trainer.video_inputs`), runs the Qwen2.5-VL processor, and feeds
``pixel_values_videos``, ``video_grid_thw``, ``second_per_grid_ts`` and ``mm_token_type_ids`` (for the 3-D rotary
positions) to

1. generation (``_tokenize_prompts`` returns the processor's video tensors as multimodal fields, which TRL hands to
   ``model.generate``),
2. the old-policy and reference log-probs computed inside ``_generate_and_score_completions``, and
3. the policy log-probs in the loss (``_compute_loss``),

so the policy gradient is taken on exactly the inputs the completions were sampled from. The per-sample video
tensors travel through TRL's shuffling and micro-batch splitting as Python lists aligned with the rows.

Rewards are logged per SR task as well as overall: ``rewards/<reward>/<task>`` (e.g.
``rewards/accuracy/object_counting``), with tasks from :func:`spatial_r1_eval.questions.task_of`.

Rollouts run with transformers ``generate`` (default) or with TRL's colocated vLLM engine (``use_vllm=True``,
``vllm_mode="colocate"``): then each token prompt reaches vLLM with its row's video, the same sampled frames and
frame rate the log-probs are computed on (:mod:`spatial_r1_eval.trainer.vllm_video`). TRL's server mode has no
video transport and is rejected with a clear error.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from trl import GRPOTrainer

from spatial_r1_eval.trainer.video_inputs import VideoBudget, load_video_frames, video_model_inputs
from spatial_r1_eval.trainer.vllm_video import VideoRequestLLM, vllm_video_item

logger = logging.getLogger(__name__)

#: Tokens a sampled completion must never contain: a vision placeholder in the completion would not match the
#: visual features (the model checks token and feature counts).
_VISION_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")
#: Keys of the per-sample video tensors carried from generation to the loss.
_VIDEO_KEYS = ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")


def _with_video_block(prompt: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put one ``{"type": "video"}`` block first in the first user message (content normalised to blocks).

    Example:
        >>> _with_video_block([{"role": "user", "content": "How many chairs?"}])
        [{'role': 'user', 'content': [{'type': 'video'}, {'type': 'text', 'text': 'How many chairs?'}]}]
    """
    out: list[dict[str, Any]] = []
    placed = False
    for message in prompt:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
        if message["role"] == "user" and not placed:
            blocks = [b for b in blocks if b.get("type") != "video"]
            blocks.insert(0, {"type": "video"})
            placed = True
        out.append({**message, "content": blocks})
    if not placed:
        raise ValueError("video prompt has no user message to attach the video to")
    return out


class VideoGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` that feeds Qwen2.5-VL the video of each row (``video`` column) in generation and training.

    Args:
        *args: As for ``trl.GRPOTrainer``.
        video_budget: Frames and pixels per frame (default: the paper's 16 frames × 128·28·28 pixels).
        video_column: Dataset column with the video path (absolute, or relative to the working directory).
        **kwargs: As for ``trl.GRPOTrainer``; ``processing_class`` must be a Qwen2.5-VL processor.
    """

    def __init__(self, *args: Any, video_budget: VideoBudget | None = None, video_column: str = "video", **kwargs):
        grpo_args = kwargs.get("args", args[2] if len(args) > 2 else None)
        if grpo_args is not None and grpo_args.use_vllm and grpo_args.vllm_mode != "colocate":
            raise ValueError(
                f"vllm_mode={grpo_args.vllm_mode!r}: TRL's vLLM server has no video transport; "
                "set vllm_mode: colocate (or use_vllm: false)"
            )
        super().__init__(*args, **kwargs)
        self.video_budget = video_budget or VideoBudget()
        self.video_column = video_column
        if not self._is_vlm:
            raise ValueError("VideoGRPOTrainer needs a vision-language processor (AutoProcessor), got a tokenizer")
        if self._video_pad_token_id is None:
            raise ValueError("the processor's tokenizer has no <|video_pad|> token: not a Qwen2.5-VL processor")
        suppress = [self._tokenizer.convert_tokens_to_ids(t) for t in _VISION_TOKENS]
        suppress = sorted({t for t in suppress if t is not None and t != self._tokenizer.unk_token_id})
        if self.use_vllm:
            # every LLM.generate call of TRL's colocated engine gets the batch's videos; vLLM never samples a vision
            # token (logit bias -100 on vLLM's processed logits, as suppress_tokens does for transformers generate)
            self.vllm_generation.llm = VideoRequestLLM(self.vllm_generation.llm, self._video_pad_token_id)
            bias = dict(self.vllm_generation.generation_kwargs.get("logit_bias") or {})
            self.vllm_generation.generation_kwargs["logit_bias"] = {**bias, **dict.fromkeys(suppress, -100.0)}
        else:
            merged = sorted(set(self.generation_config.suppress_tokens or []) | set(suppress))
            self.generation_config.suppress_tokens = merged
            self.generation_kwargs["suppress_tokens"] = merged
        self._video_batch: dict[str, list[Any]] | None = None  # set while one generation batch is processed
        self._frames_by_path: dict[str, tuple[Any, float]] = {}  # decoded frames of the current batch
        self._video_forward: dict[str, list[torch.Tensor]] | None = None  # rows of the current log-prob pass

    # ----------------------------------------------------------------------------------------------------------
    # Building the video inputs of one generation batch
    # ----------------------------------------------------------------------------------------------------------
    def _prompt_text(self, prompt: list[dict[str, Any]]) -> str:
        return self.processing_class.apply_chat_template(
            _with_video_block(prompt),
            tokenize=False,
            add_generation_prompt=True,
            chat_template=getattr(self, "chat_template", None),
            **(self.chat_template_kwargs or {}),
        )

    def _build_video_batch(self, inputs: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """Processor outputs for each row; each distinct video is decoded once per batch."""
        frames_by_path = self._frames_by_path = {}
        batch: dict[str, list[Any]] = {
            "prompt_ids": [], "mm_token_type_ids": [], "video_path": [], **{k: [] for k in _VIDEO_KEYS}
        }  # fmt: skip
        for row in inputs:
            video = row.get(self.video_column)
            if not video:
                raise ValueError(f"row without a {self.video_column!r} path: every row of a video batch needs one")
            if video not in frames_by_path:
                frames_by_path[video] = load_video_frames(video, self.video_budget)
            frames, fps = frames_by_path[video]
            batch["video_path"].append(video)
            processed = video_model_inputs(self.processing_class, self._prompt_text(row["prompt"]), frames, fps)
            batch["prompt_ids"].append(processed["input_ids"][0].tolist())
            batch["mm_token_type_ids"].append(processed["mm_token_type_ids"][0].tolist())
            batch["pixel_values_videos"].append(processed["pixel_values_videos"])
            batch["video_grid_thw"].append(processed["video_grid_thw"])
            batch["second_per_grid_ts"].append(torch.as_tensor(processed["second_per_grid_ts"], dtype=torch.float32))
        return batch

    # ----------------------------------------------------------------------------------------------------------
    # TRL hooks
    # ----------------------------------------------------------------------------------------------------------
    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if not inputs or self.video_column not in inputs[0]:
            return super()._generate_and_score_completions(inputs)
        batch = self._video_batch = self._build_video_batch(inputs)
        self._video_forward = {k: batch[k] for k in _VIDEO_KEYS}
        try:
            output = super()._generate_and_score_completions(inputs)
        finally:
            self._video_forward = self._video_batch = None
            self._frames_by_path = {}
        for key in _VIDEO_KEYS:  # lists stay aligned with the rows through TRL's shuffle and split
            output[key] = batch[key]
        return output

    def _tokenize_prompts(self, prompts: list):
        if self._video_batch is None:
            return super()._tokenize_prompts(prompts)
        batch = self._video_batch
        fields = {k: torch.cat(batch[k]) for k in _VIDEO_KEYS}
        fields["mm_token_type_ids"] = batch["mm_token_type_ids"]  # per token: TRL left-pads it like input_ids
        return batch["prompt_ids"], None, fields

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        if not (self.use_vllm and self._video_batch is not None):
            return super()._generate_single_turn(
                prompt_ids, images, multimodal_fields, num_generations, has_tool_images=has_tool_images
            )
        with self.vllm_generation.llm.videos(self._vllm_videos(self._video_batch["video_path"])):
            return super()._generate_single_turn(
                prompt_ids, images, multimodal_fields, num_generations, has_tool_images=has_tool_images
            )

    def _vllm_videos(self, paths: list[str]) -> list[tuple[Any, dict[str, Any]]]:
        """vLLM video items in the order TRL hands the prompts to vLLM.

        With tensor parallelism TRL gathers the prompts of the ranks of a TP group (in rank order) and every rank
        generates all of them, so the video paths are gathered the same way; each rank decodes the videos it does
        not hold (decoding is deterministic, so all ranks give vLLM the same frames).
        """
        if self.vllm_generation.tensor_parallel_size > 1:
            gathered: list[list[str] | None] = [None] * self.vllm_generation.tensor_parallel_size
            torch.distributed.all_gather_object(gathered, paths, group=self.vllm_generation.tp_group)
            paths = [p for rank_paths in gathered for p in rank_paths]
        frames_by_path = self._frames_by_path
        items = []
        for path in paths:
            if path not in frames_by_path:
                frames_by_path[path] = load_video_frames(path, self.video_budget)
            items.append(vllm_video_item(*frames_by_path[path]))
        return items

    def _compute_loss(self, model, inputs):
        if "pixel_values_videos" not in inputs:
            return super()._compute_loss(model, inputs)
        self._video_forward = {k: inputs[k] for k in _VIDEO_KEYS}
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._video_forward = None

    def _get_per_token_logps_and_entropies(
        self,
        model,
        input_ids,
        attention_mask,
        logits_to_keep,
        batch_size=None,
        compute_entropy=False,
        compute_aux_loss=False,
        **kwargs,
    ):
        video = self._video_forward
        if video is None:
            return super()._get_per_token_logps_and_entropies(
                model,
                input_ids,
                attention_mask,
                logits_to_keep,
                batch_size=batch_size,
                compute_entropy=compute_entropy,
                compute_aux_loss=compute_aux_loss,
                **kwargs,
            )
        if len(video["video_grid_thw"]) != input_ids.size(0):
            raise RuntimeError(f"{len(video['video_grid_thw'])} videos for {input_ids.size(0)} sequences")
        device = input_ids.device
        # Vision placeholders live in the prompt only (sampling suppresses them in completions).
        prompt_length = input_ids.size(1) - logits_to_keep
        mm_token_type_ids = torch.zeros_like(input_ids)
        mm_token_type_ids[:, :prompt_length] = (input_ids[:, :prompt_length] == self._video_pad_token_id).long() * 2
        batch_size = batch_size or input_ids.size(0)
        all_logps, all_entropies, all_aux = [], [], []
        for start in range(0, input_ids.size(0), batch_size):
            end = min(start + batch_size, input_ids.size(0))
            ids = input_ids[start:end]
            mask = attention_mask[start:end]
            model_inputs = {
                "input_ids": ids,
                "attention_mask": mask,
                "mm_token_type_ids": mm_token_type_ids[start:end],
                **{k: torch.cat(video[k][start:end]).to(device) for k in _VIDEO_KEYS},
            }
            if compute_aux_loss:
                model_inputs["output_router_logits"] = True
            labels = ids.masked_fill(mask == 0, -100)  # only the completion tokens are scored
            labels[:, :-logits_to_keep] = -100
            with self.accelerator.autocast():
                outputs = model(**model_inputs, labels=labels, fused_lm_head=True)
            all_logps.append(outputs.log_probs[:, -logits_to_keep:])
            if compute_entropy:
                all_entropies.append(outputs.entropy[:, -logits_to_keep:])
            if compute_aux_loss:
                all_aux.append(outputs.aux_loss)
        logps = torch.cat(all_logps, dim=0)
        entropies = torch.cat(all_entropies, dim=0) if compute_entropy else None
        aux_loss = torch.stack(all_aux).mean() if compute_aux_loss else None
        return logps, entropies, aux_loss

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        from accelerate.utils import gather_object

        from spatial_r1_eval.questions import task_of

        question_types = gather_object([row.get("question_type") for row in inputs])
        if any(qt is None for qt in question_types):
            return rewards_per_func
        tasks = [task_of(qt) for qt in question_types]
        mode = "train" if self.model.training else "eval"
        for task in sorted(set(tasks)):
            rows = torch.tensor([t == task for t in tasks], device=rewards_per_func.device)
            for i, name in enumerate(self.reward_func_names):
                values = rewards_per_func[rows, i]
                if not torch.isnan(values).all():
                    self._metrics[mode][f"rewards/{name}/{task}"].append(torch.nanmean(values).item())
        return rewards_per_func
