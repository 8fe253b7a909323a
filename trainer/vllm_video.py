"""vLLM rollouts with video: what ``VideoGRPOTrainer`` hands vLLM so that it samples from the same video tensors the
trainer scores.

TRL's colocated vLLM backend (``use_vllm: true``, ``vllm_mode: colocate``) sends vLLM token prompts and, for VLMs,
images only. :class:`VideoRequestLLM` wraps the ``vllm.LLM`` that TRL builds: while the trainer has videos pending,
each token prompt TRL passes to ``LLM.generate`` gets its row's video, as vLLM's Qwen2.5-VL processor takes it:

* ``multi_modal_data={"video": (frames, metadata)}``: the frames :func:`~spatial_r1_eval.trainer.video_inputs.
  load_video_frames` sampled and resized (``[T, 3, H, W]``, the same tensor the training processor gets) and the
  metadata of the sampling (:func:`~spatial_r1_eval.trainer.video_inputs.sampled_video_metadata`), which sets
  ``second_per_grid_ts``;
* ``mm_processor_kwargs={"do_sample_frames": False, "do_resize": False}``: no second frame sampling and no resize,
  exactly as in training.

The training processor's prompt holds the video placeholder expanded to one ``<|video_pad|>`` per merged patch.
vLLM expands the placeholder itself (vLLM 0.33 always does: an expanded prompt would get a second expansion), so
each run of ``<|video_pad|>`` is collapsed to one before the prompt goes to vLLM
(:func:`collapse_video_placeholders`); vLLM's expansion then gives back the training prompt token for token.
``tests/test_trainer_vllm_video.py`` checks this with vLLM's own Qwen2.5-VL processor (it runs on CPU): same prompt
ids, same ``video_grid_thw``, ``second_per_grid_ts`` and pixels (vLLM normalises pixels on the device, so the
test normalises them first).

Everything else (weight sync, sampling parameters, tensor-parallel gathering, sleep mode, log-probs for importance
sampling) stays TRL's. TRL's server mode (``trl vllm-serve``) has no video transport, so it is rejected.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from spatial_r1_eval.trainer.video_inputs import sampled_video_metadata

logger = logging.getLogger(__name__)

#: Processor options vLLM applies to every video request: frames arrive sampled and resized to the budget.
VLLM_VIDEO_PROCESSOR_KWARGS: dict[str, Any] = {"do_sample_frames": False, "do_resize": False}


def vllm_video_item(frames: Any, sample_fps: float) -> tuple[Any, dict[str, Any]]:
    """One video as vLLM's Qwen2.5-VL processor takes it: ``(frames, metadata)``.

    Args:
        frames: Sampled, resized frames ``[T, 3, H, W]`` (output of ``load_video_frames``).
        sample_fps: Frame rate of the sampled frames.

    Returns:
        The frames unchanged and vLLM's video metadata (``fps``, ``total_num_frames``, ``frames_indices``,
        ``duration``, ``video_backend``, ``do_sample_frames=False``).

    Example:
        >>> import torch
        >>> frames, meta = vllm_video_item(torch.zeros(4, 3, 28, 56), 2.0)
        >>> meta["fps"], meta["frames_indices"], meta["do_sample_frames"]
        (2.0, [0, 1, 2, 3], False)
    """
    metadata = sampled_video_metadata(len(frames), sample_fps)
    metadata.update(video_backend="qwen_vl_utils", do_sample_frames=False)
    return frames, metadata


def collapse_video_placeholders(token_ids: Sequence[int], video_pad_token_id: int) -> list[int]:
    """Replace each run of ``<|video_pad|>`` tokens by a single one: the unexpanded prompt vLLM expects.

    Args:
        token_ids: Prompt token ids with expanded video placeholders.
        video_pad_token_id: Id of ``<|video_pad|>``.

    Example:
        >>> collapse_video_placeholders([1, 9, 7, 7, 7, 8, 2], video_pad_token_id=7)
        [1, 9, 7, 8, 2]
    """
    out: list[int] = []
    for token in token_ids:
        if token == video_pad_token_id and out and out[-1] == video_pad_token_id:
            continue
        out.append(int(token))
    return out


def with_video(prompt: dict[str, Any], video: tuple[Any, dict[str, Any]], video_pad_token_id: int) -> dict[str, Any]:
    """A vLLM token prompt with its video attached and its video placeholder collapsed.

    Args:
        prompt: A vLLM prompt dict as TRL builds it (``{"prompt_token_ids": [...]}``), without multimodal data.
        video: Output of :func:`vllm_video_item`.
        video_pad_token_id: Id of ``<|video_pad|>``.

    Raises:
        ValueError: The prompt already carries multimodal data (an image prompt in a video batch), or it does not
            hold exactly one video placeholder.

    Example:
        >>> import torch
        >>> video = vllm_video_item(torch.zeros(2, 3, 28, 28), 1.0)
        >>> request = with_video({"prompt_token_ids": [1, 7, 7, 7, 7, 2]}, video, video_pad_token_id=7)
        >>> request["prompt_token_ids"]
        [1, 7, 2]
        >>> sorted(request)
        ['mm_processor_kwargs', 'multi_modal_data', 'prompt_token_ids']
        >>> request["mm_processor_kwargs"]
        {'do_sample_frames': False, 'do_resize': False}
    """
    if prompt.get("multi_modal_data"):
        kinds = sorted(prompt["multi_modal_data"])
        raise ValueError(f"prompt already has multimodal data ({kinds}); a video row cannot also carry images")
    token_ids = collapse_video_placeholders(prompt["prompt_token_ids"], video_pad_token_id)
    if token_ids.count(video_pad_token_id) != 1:
        raise ValueError(
            f"a video prompt needs one <|video_pad|> placeholder (id {video_pad_token_id}), "
            f"found {token_ids.count(video_pad_token_id)}"
        )
    return {
        **prompt,
        "prompt_token_ids": token_ids,
        "multi_modal_data": {"video": video},
        "mm_processor_kwargs": {**(prompt.get("mm_processor_kwargs") or {}), **VLLM_VIDEO_PROCESSOR_KWARGS},
    }


class VideoRequestLLM:
    """A ``vllm.LLM`` whose ``generate`` attaches the pending videos to the prompts, one per prompt, in order.

    Every other attribute is the wrapped ``LLM``'s, so TRL's sync, sleep and model-config accesses work unchanged.

    Args:
        llm: The ``vllm.LLM`` (or anything with the same ``generate``).
        video_pad_token_id: Id of ``<|video_pad|>``.

    Example:
        >>> import torch
        >>> class Echo:
        ...     def generate(self, prompts, sampling_params=None, use_tqdm=False):
        ...         return prompts
        >>> llm = VideoRequestLLM(Echo(), video_pad_token_id=7)
        >>> with llm.videos([vllm_video_item(torch.zeros(2, 3, 28, 28), 1.0)]):
        ...     sent = llm.generate([{"prompt_token_ids": [5, 7, 7, 6]}])
        >>> sent[0]["prompt_token_ids"], sent[0]["multi_modal_data"]["video"][1]["total_num_frames"]
        ([5, 7, 6], 2)
        >>> llm.generate([{"prompt_token_ids": [5, 6]}])  # nothing pending: text prompts pass through
        [{'prompt_token_ids': [5, 6]}]
    """

    def __init__(self, llm: Any, video_pad_token_id: int) -> None:
        self._llm = llm
        self.video_pad_token_id = video_pad_token_id
        self._pending: list[tuple[Any, dict[str, Any]]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)

    @property
    def wrapped(self) -> Any:
        """The ``vllm.LLM`` itself."""
        return self._llm

    @contextlib.contextmanager
    def videos(self, videos: Sequence[tuple[Any, dict[str, Any]]]) -> Iterator[None]:
        """Attach ``videos[i]`` to the ``i``-th prompt of every ``generate`` call inside the block."""
        if self._pending is not None:
            raise RuntimeError("videos are already pending: VideoRequestLLM.videos() does not nest")
        self._pending = list(videos)
        try:
            yield
        finally:
            self._pending = None

    def generate(self, prompts: Sequence[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        """``LLM.generate`` on the prompts, each with its pending video."""
        if self._pending is None:
            return self._llm.generate(prompts, *args, **kwargs)
        if len(prompts) != len(self._pending):
            raise RuntimeError(f"{len(prompts)} vLLM prompts for {len(self._pending)} pending videos")
        pad = self.video_pad_token_id
        requests = [with_video(dict(p), v, pad) for p, v in zip(prompts, self._pending, strict=True)]
        return self._llm.generate(requests, *args, **kwargs)
