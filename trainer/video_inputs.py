"""Video frames for Qwen2.5-VL: sample N frames from an mp4 under a per-frame pixel budget, then run the processor.

Frame sampling follows the reference implementation of the Qwen2.5-VL authors (``qwen_vl_utils.fetch_video``, the
path Video-R1 and Spatial-R1 train with; decoded with decord unless ``FORCE_QWENVL_VIDEO_READER`` names another
reader): ``frames`` frames spaced uniformly over the whole clip, each resized to a multiple of 28 px with at most
``max_pixels`` pixels. The processor then turns the frames into
``pixel_values_videos`` / ``video_grid_thw`` / ``second_per_grid_ts`` (no second resize, no second frame sampling)
and expands the single ``<|video_pad|>`` of the chat template into one token per merged patch.

The paper's setup is 16 frames of at most 128×28×28 pixels (:data:`PAPER_FRAMES`, :data:`PAPER_MAX_PIXELS`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Frames per video in the paper's training setup.
PAPER_FRAMES = 16
#: Pixels per frame in the paper's training setup (128 merged 28×28 patches).
PAPER_MAX_PIXELS = 128 * 28 * 28
#: Side of one merged Qwen2.5-VL patch (14 px patches, 2×2 spatial merge).
PATCH_FACTOR = 28


@dataclass(frozen=True)
class VideoBudget:
    """How much of each video the model sees.

    Args:
        frames: Frames sampled uniformly over the clip (even: Qwen2.5-VL merges frame pairs).
        max_pixels: Upper bound of pixels per frame (height × width after resizing).
        min_pixels: Lower bound of pixels per frame; ``None`` = ``min(max_pixels, 4 * 28 * 28)``.

    Example:
        >>> VideoBudget().frames, VideoBudget().max_pixels
        (16, 100352)
        >>> VideoBudget(frames=3)
        Traceback (most recent call last):
        ...
        ValueError: video frames must be an even number >= 2, got 3
    """

    frames: int = PAPER_FRAMES
    max_pixels: int = PAPER_MAX_PIXELS
    min_pixels: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.frames, int) or self.frames < 2 or self.frames % 2:
            raise ValueError(f"video frames must be an even number >= 2, got {self.frames}")
        if self.max_pixels < PATCH_FACTOR * PATCH_FACTOR:
            raise ValueError(f"video max_pixels must be >= {PATCH_FACTOR * PATCH_FACTOR}, got {self.max_pixels}")
        if self.min_pixels is not None and not 0 < self.min_pixels <= self.max_pixels:
            raise ValueError(f"video min_pixels must be in (0, max_pixels={self.max_pixels}], got {self.min_pixels}")

    @property
    def effective_min_pixels(self) -> int:
        """The lower pixel bound actually applied.

        Example:
            >>> VideoBudget(frames=4, max_pixels=2 * 28 * 28).effective_min_pixels
            1568
        """
        return self.min_pixels if self.min_pixels is not None else min(self.max_pixels, 4 * PATCH_FACTOR**2)


def load_video_frames(path: str | os.PathLike[str], budget: VideoBudget) -> tuple[Any, float]:
    """Decode ``budget.frames`` uniformly spaced frames of an mp4, resized under the pixel budget.

    Args:
        path: The video file.
        budget: Frames and pixels per frame.

    Returns:
        ``(frames, sample_fps)``: a float tensor ``[frames, 3, H, W]`` (H, W multiples of 28, values 0-255) and the
        frame rate of the sampled frames (``frames / duration``), which sets ``second_per_grid_ts``.

    Raises:
        FileNotFoundError: The video does not exist.
        ValueError: The video is unreadable or has fewer frames than requested.
    """
    from qwen_vl_utils import fetch_video, vision_process

    if vision_process.FORCE_QWENVL_VIDEO_READER is None:
        # Decode with decord (a dependency of ours), as the env var FORCE_QWENVL_VIDEO_READER=decord would: left to
        # itself qwen-vl-utils takes torchcodec whenever it is installed (vLLM installs it), which fails without the
        # system FFmpeg libraries, and different decoders need not give the same frames.
        vision_process.FORCE_QWENVL_VIDEO_READER = "decord"
        vision_process.get_video_reader_backend.cache_clear()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: video not found")
    element = {
        "video": str(path),
        "nframes": budget.frames,
        "max_pixels": budget.max_pixels,
        "min_pixels": budget.effective_min_pixels,
    }
    try:
        frames, sample_fps = fetch_video(element, return_video_sample_fps=True)
    except Exception as e:  # decoders raise assorted types; report one clear line naming the file
        raise ValueError(f"{path}: cannot sample {budget.frames} frames from this video ({e})") from None
    return frames, float(sample_fps)


def video_model_inputs(processor: Any, prompt_text: str, frames: Any, sample_fps: float) -> dict[str, Any]:
    """Run the Qwen2.5-VL processor on one chat-templated prompt and its sampled frames.

    Args:
        processor: A Qwen2.5-VL ``AutoProcessor``.
        prompt_text: The chat-templated prompt holding one ``<|vision_start|><|video_pad|><|vision_end|>``.
        frames: Output of :func:`load_video_frames`.
        sample_fps: Frame rate of the sampled frames.

    Returns:
        The processor's tensors: ``input_ids`` and ``mm_token_type_ids`` ``[1, L]``, ``pixel_values_videos``
        ``[patches, C]``, ``video_grid_thw`` ``[1, 3]``, ``second_per_grid_ts`` ``[1]`` (seconds per temporal
        patch: ``temporal_patch_size / sample_fps``).
    """
    return processor(
        text=[prompt_text],
        videos=[frames],
        video_metadata=[sampled_video_metadata(len(frames), sample_fps)],
        do_sample_frames=False,  # frames are already sampled
        do_resize=False,  # and already resized to the budget
        return_tensors="pt",
    )


def sampled_video_metadata(num_frames: int, sample_fps: float) -> dict[str, Any]:
    """Video metadata that tells a Qwen2.5-VL processor the frames are already sampled at ``sample_fps``.

    The processor sets ``second_per_grid_ts = temporal_patch_size / sampled_fps`` from this metadata, the value the
    reference implementation (qwen-vl-utils) gives; without metadata transformers assumes 24 fps, which squeezes the
    temporal rotary positions of all frames together. vLLM takes the same dict (plus ``do_sample_frames``) as the
    second item of a ``(frames, metadata)`` video.

    Example:
        >>> sampled_video_metadata(4, 2.0)
        {'fps': 2.0, 'total_num_frames': 4, 'frames_indices': [0, 1, 2, 3], 'duration': 2.0}
    """
    if num_frames < 1 or not sample_fps > 0:
        raise ValueError(f"video metadata needs frames >= 1 and fps > 0, got {num_frames} frames at {sample_fps} fps")
    return {
        "fps": float(sample_fps),
        "total_num_frames": int(num_frames),
        "frames_indices": list(range(num_frames)),
        "duration": num_frames / float(sample_fps),
    }
