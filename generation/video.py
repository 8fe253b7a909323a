"""Scene videos: RGB frames -> H.264 mp4 (PyAV), and a scene's 30 fps stream resampled to 24 fps.

Frame-time mapping (:func:`resample_indices`): output frame ``k`` is shown at ``k / fps_out`` seconds and
displays the latest available stream frame whose time ``index / fps_in`` is <= that instant (frames with
invalid poses are not in ``scene.frames``; the previous valid frame is held). A stream frame ``i`` therefore
first appears in output frame ``ceil(i * fps_out / fps_in)``, at most ``1 / fps_out`` s after its own time,
so appearance-order timings measured on stream indices (``index / 30``) carry over to the video.

Size: :func:`fit_size` fits the stream into a box (default VSI-Bench's 640x480), aspect kept, even dimensions,
never enlarged (ScanNet's 1296x968 -> 640x478). Frames that can decode at reduced scale (``Frame.load_color_reduced``:
JPEG DCT scaling, :meth:`SensReader.read_color_reduced`, 1296x968 -> 648x484) do so; the encoder's RGB -> yuv420p
conversion (FFmpeg's swscale, bilinear) scales them to the exact size in the same pass (~1.7 ms a frame at 640x478,
where a separate Pillow resize took ~10 ms). Decode -> scale -> encode is streamed: one frame in memory at a time,
each stream frame decoded once, frames the 30 -> 24 fps resampling drops never decoded.

Reproducibility: libx264 runs single-threaded with every threading knob pinned (``threads=1``,
``lookahead-threads=1``, ``sliced-threads=0``, ``sync-lookahead=0``), fixed settings, and the mp4 carries no
creation time. What can make encodes differ is CPU-dispatched SIMD code, in two places: x264's kernels (a few,
e.g. the float ``mbtree_propagate_cost``, are checked against its C code only to a tolerance by x264's own
``checkasm``) and FFmpeg's RGB -> yuv420p conversion (swscale's default SIMD path differs from its bit-exact C
path by 1 level in ~2.5 % of the samples, measured here). Threads are not a cause once pinned: with the SIMD
kernels on, 120 of 120 encodes of the same frames in 6 concurrent processes were byte-identical here (AMD EPYC,
AVX2; an earlier report of 1 in 8 identical under load could not be reproduced), and the concurrent-encoder test
checks both modes. Two guarantees:

- default (``deterministic=False``, SIMD on): byte-identical on the same machine (same FFmpeg/x264 build, same
  CPU features), whatever the load or the number of concurrent encoders; on another CPU the bytes may differ
  (same settings and quality, slightly different encoder decisions).
- ``deterministic=True`` (``--deterministic-video``): x264's C code (``asm=0``) and swscale's bit-exact conversion
  (``SWS_ACCURATE_RND | SWS_BITEXACT``, which also does the scaling): the same bytes wherever the same FFmpeg/x264
  build runs (JPEG decoding is libjpeg-turbo, whose SIMD output equals its C output); 3.6x slower to encode
  (640x478: 14.7 vs 53 frames per CPU second, measured here).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from spatial_r1_eval.files import atomic_open
from spatial_r1_eval.generation.scene import Frame, Scene

PathLike = str | os.PathLike[str]

#: Frame rate of the exported videos (VSI-Bench's).
VIDEO_FPS = 24.0
#: Default video box (VSI-Bench's ScanNet videos are 640x480).
DEFAULT_VIDEO_SIZE = (640, 480)
#: x264 threading pinned to one thread, no lookahead or slice threads (see the module docstring).
_X264_THREADS = "threads=1:lookahead-threads=1:sliced-threads=0:sync-lookahead=0"
#: swscale flags for the strict RGB -> yuv420p conversion: SWS_BILINEAR | SWS_ACCURATE_RND | SWS_BITEXACT.
_SWS_BITEXACT = 0x2 | 0x40000 | 0x80000


class VideoInfo(NamedTuple):
    """What :func:`export_scene_video` wrote: frame count, size in pixels, frame rate."""

    frames: int
    width: int
    height: int
    fps: float


def parse_video_size(text: str) -> tuple[int, int] | None:
    """``"640x480"`` -> ``(640, 480)``; ``"native"`` -> ``None`` (keep the stream size).

    Example:
        >>> parse_video_size("640x480"), parse_video_size("native")
        ((640, 480), None)
    """
    text = str(text).strip().lower()
    if text == "native":
        return None
    w, sep, h = text.partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 2 or int(h) < 2:
        raise ValueError(f"video size must be WIDTHxHEIGHT (e.g. 640x480, both >= 2) or 'native', got {text!r}")
    return int(w), int(h)


def fit_size(width: int, height: int, box: tuple[int, int] | None) -> tuple[int, int]:
    """Size of a ``width`` x ``height`` stream fitted into ``box``: aspect kept, even, never enlarged.

    Args:
        width: Stream width.
        height: Stream height.
        box: ``(max_width, max_height)``, or ``None`` for the native size (rounded down to even).

    Example:
        >>> fit_size(1296, 968, (640, 480)), fit_size(160, 120, (640, 480)), fit_size(1297, 969, None)
        ((640, 478), (160, 120), (1296, 968))
    """
    if box is None:
        return width // 2 * 2, height // 2 * 2
    scale = min(box[0] / width, box[1] / height, 1.0)
    if scale >= 1.0:
        return width // 2 * 2, height // 2 * 2
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def resample_indices(stream_indices: Sequence[int], fps_in: float = 30.0, fps_out: float = 24.0) -> np.ndarray:
    """For each output frame at ``fps_out``, the position in ``stream_indices`` of the frame it shows.

    Args:
        stream_indices: Increasing stream indices of the available frames (time = index / ``fps_in``).
        fps_in: Stream frame rate.
        fps_out: Video frame rate.

    Returns:
        (K,) ``int64`` positions into ``stream_indices``; K covers the stream up to its last available frame.

    Example:
        >>> resample_indices(range(10)).tolist()  # 10 frames at 30 fps -> 8 frames at 24 fps
        [0, 1, 2, 3, 5, 6, 7, 8]
        >>> resample_indices([0, 1, 5, 6], 30, 24).tolist()  # frames 2-4 missing: frame 1 is held
        [0, 1, 1, 1, 2]
    """
    idx = np.asarray(list(stream_indices), dtype=np.int64)
    if len(idx) == 0:
        return np.zeros(0, dtype=np.int64)
    if np.any(np.diff(idx) <= 0):
        raise ValueError("stream_indices must be strictly increasing")
    if fps_in <= 0 or fps_out <= 0:
        raise ValueError(f"frame rates must be positive, got {fps_in} and {fps_out}")
    n_out = math.floor((idx[-1] - idx[0]) * fps_out / fps_in + 1e-9) + 1
    times = idx[0] + np.arange(n_out) * (fps_in / fps_out)  # stream-index time of each output frame
    return np.searchsorted(idx, times + 1e-9, side="right") - 1


def write_mp4(
    frames: Iterable[np.ndarray],
    path: PathLike,
    fps: float = 24,
    *,
    crf: int = 23,
    deterministic: bool = True,
    size: tuple[int, int] | None = None,
) -> int:
    """Encode RGB frames as H.264 (yuv420p) mp4, atomically; returns the number of frames written.

    Frames are consumed one at a time (a generator keeps memory bounded).

    Args:
        frames: (H, W, 3) ``uint8`` images. Without ``size`` all the same size (odd sizes lose their last
            row/column: yuv420p needs even dimensions); with ``size`` any sizes, each scaled to it.
        path: Output ``.mp4``.
        fps: Frame rate (integer or fraction-friendly float, e.g. 24).
        crf: x264 constant rate factor (quality).
        deterministic: x264's C code only (``asm=0``): the same bytes on any machine; ``False`` uses its SIMD
            kernels, byte-identical on the same machine (see the module docstring).
        size: Output (width, height), both even: every frame is scaled to it (swscale bilinear, in the
            colour-conversion pass). ``None``: the first frame's size.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.mp4"
        >>> frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(5)]
        >>> write_mp4(frames, p)
        5
        >>> first = p.read_bytes(); _ = write_mp4(frames, p); p.read_bytes() == first  # deterministic
        True
    """
    from fractions import Fraction

    import av

    path = Path(path)
    rate = Fraction(fps).limit_denominator(1001)
    if size is not None and (len(size) != 2 or min(size) < 2 or size[0] % 2 or size[1] % 2):
        raise ValueError(f"{path}: video size must be two even numbers >= 2, got {size!r}")
    flags = _SWS_BITEXACT if deterministic else None  # None: PyAV's default (bilinear, SIMD where it has it)
    n = 0
    with atomic_open(path, "wb") as f:
        with av.open(f, "w", format="mp4") as container:
            stream = None
            for frame in frames:
                frame = np.asarray(frame)
                if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                    raise ValueError(f"{path}: frames must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
                h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2  # yuv420p: even sizes
                if stream is None:
                    if h == 0 or w == 0:
                        raise ValueError(f"{path}: frames of {frame.shape[1]}x{frame.shape[0]} are too small")
                    stream = container.add_stream("libx264", rate=rate)
                    stream.width, stream.height = (int(size[0]), int(size[1])) if size else (w, h)
                    stream.pix_fmt = "yuv420p"
                    stream.codec_context.thread_count = 1
                    stream.codec_context.thread_type = "NONE"
                    params = _X264_THREADS + (":asm=0" if deterministic else "")
                    stream.options = {"crf": str(crf), "preset": "medium", "threads": "1", "x264-params": params}
                elif size is None and (h, w) != (stream.height, stream.width):
                    raise ValueError(f"{path}: frame {n} is {w}x{h}, the first was {stream.width}x{stream.height}")
                src = frame if size else frame[:h, :w]  # with ``size``, swscale scales the whole frame
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(src), format="rgb24")
                video_frame = video_frame.reformat(stream.width, stream.height, "yuv420p", interpolation=flags)
                container.mux(stream.encode(video_frame))
                n += 1
            if stream is None:
                raise ValueError(f"{path}: no frames to encode")
            container.mux(stream.encode(None))
    return n


def scene_video_frames(
    frames: Sequence[Frame], fps_in: float, fps_out: float = 24.0, min_size: tuple[int, int] | None = None
) -> Iterable[np.ndarray]:
    """Colour images of ``frames`` resampled to ``fps_out`` (:func:`resample_indices`), each decoded once.

    Args:
        frames: The stream's frames.
        fps_in: Their frame rate.
        fps_out: The video's.
        min_size: Decode at reduced scale where the frame can (``load_color_reduced``), keeping at least this
            (width, height); the images then still need scaling to the exact size (:func:`write_mp4` ``size``).
            ``None``: full size.
    """
    positions = resample_indices([f.index for f in frames], fps_in, fps_out)
    last_pos, last_img = -1, None
    for pos in positions:
        if pos != last_pos:
            frame = frames[int(pos)]
            if min_size is not None and frame.load_color_reduced is not None:
                img = frame.load_color_reduced(min_size)
            else:
                img = frame.load_color()
            last_pos, last_img = int(pos), img
        yield last_img


def export_scene_video(
    scene: Scene,
    path: PathLike,
    fps: float = VIDEO_FPS,
    *,
    size: tuple[int, int] | None = None,
    deterministic: bool = True,
) -> VideoInfo:
    """Write the scene's camera stream as an mp4 at ``fps`` (default 24) from its ``scene.fps`` stream.

    Args:
        scene: A scene with frames.
        path: Output ``.mp4`` (written atomically).
        fps: Video frame rate.
        size: Box the video fits in (:func:`fit_size`; e.g. ``DEFAULT_VIDEO_SIZE``), ``None``: the stream's size.
        deterministic: Strict byte identity across machines (:func:`write_mp4`).

    Returns:
        Frames written, their width and height, and the frame rate.

    Raises:
        ValueError: the scene has no frames (e.g. a scan without ``.sens``).
    """
    if not scene.frames:
        raise ValueError(f"{scene.name}: no camera frames to export (no .sens stream?)")
    first = scene.frames[0].load_color()  # the stream size (one full decode)
    width, height = fit_size(first.shape[1], first.shape[0], size)
    if (width, height) == (first.shape[1] // 2 * 2, first.shape[0] // 2 * 2):  # native: frames as decoded
        n = write_mp4(scene_video_frames(scene.frames, scene.fps, fps), path, fps, deterministic=deterministic)
    else:
        images = scene_video_frames(scene.frames, scene.fps, fps, (width, height))
        n = write_mp4(images, path, fps, deterministic=deterministic, size=(width, height))
    return VideoInfo(n, width, height, float(fps))
