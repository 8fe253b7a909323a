"""Run configuration: our arguments next to TRL's ``GRPOConfig``, read from one flat YAML by TRL's ``TrlParser``.

A recipe (``trainer/recipes/*.yaml``) is a flat mapping; each key belongs either to :class:`SpatialR1Arguments`
(model, data, video budget, rewards) or to ``trl.GRPOConfig`` (optimisation, generation, logging, checkpoints).
Unknown keys are an error. Command-line flags after the config override it (``--max_steps 5``).

Conventions:
    ``model_name_or_path: tiny`` builds a tiny random Qwen2.5-VL into ``<output_dir>/tiny-model``
    (``spatial_r1_eval.tiny_model.build_tiny_qwen2_5_vl``; offline, seconds on CPU).
    ``dataset_path: synthetic`` generates a small SR dataset from synthetic scenes into ``<output_dir>/sr_data``
    (:func:`spatial_r1_eval.trainer.data.prepare_synthetic_sr`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from spatial_r1_eval.trainer.video_inputs import PAPER_FRAMES, PAPER_MAX_PIXELS, VideoBudget

#: Value of ``model_name_or_path`` that builds a tiny random Qwen2.5-VL offline.
TINY_MODEL = "tiny"
#: Value of ``dataset_path`` that generates SR data from synthetic scenes.
SYNTHETIC_DATA = "synthetic"
_DTYPES = ("auto", "bfloat16", "float16", "float32")
#: Values of ``rollouts``: who samples the completions.
ROLLOUTS = ("auto", "vllm", "transformers")


@dataclass
class SpatialR1Arguments:
    """Model, data, video and reward settings of a Spatial-R1 GRPO run (the rest is ``trl.GRPOConfig``).

    Example:
        >>> SpatialR1Arguments(dataset_path="sr_train.jsonl").reward_funcs
        ['accuracy', 'format']
        >>> SpatialR1Arguments(dataset_path="x.jsonl", reward_funcs=["accuracy", "length"])
        Traceback (most recent call last):
        ...
        ValueError: reward_funcs: unknown reward 'length' (known: accuracy, format)
    """

    model_name_or_path: str = field(
        default="Qwen/Qwen2.5-VL-7B-Instruct",
        metadata={"help": "Checkpoint folder or hub id of a Qwen2.5-VL model; 'tiny' builds a tiny random one."},
    )
    dataset_path: str = field(
        default="sr_train.jsonl",
        metadata={"help": "sr_train.jsonl of the SR generator; 'synthetic' generates one from synthetic scenes."},
    )
    question_types: list[str] | None = field(
        default=None, metadata={"help": "Train only on these question types (default: all)."}
    )
    max_samples: int | None = field(default=None, metadata={"help": "Use at most this many training rows."})
    synthetic_scenes: int = field(default=2, metadata={"help": "Scenes generated when dataset_path is 'synthetic'."})
    video_frames: int = field(
        default=PAPER_FRAMES, metadata={"help": "Frames sampled uniformly per video (even; paper: 16)."}
    )
    video_max_pixels: int = field(
        default=PAPER_MAX_PIXELS, metadata={"help": "Max pixels per frame (paper: 128*28*28 = 100352)."}
    )
    video_min_pixels: int | None = field(
        default=None, metadata={"help": "Min pixels per frame (default: min(video_max_pixels, 4*28*28))."}
    )
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy", "format"],
        metadata={"help": "Reward functions by name (spatial_r1_eval.trainer.rewards.REWARD_FUNCS)."},
    )
    nar_start: float = field(default=0.5, metadata={"help": "First NAR confidence threshold."})
    nar_end: float = field(default=0.95, metadata={"help": "Last NAR confidence threshold."})
    nar_interval: float = field(default=0.05, metadata={"help": "Step between NAR thresholds."})
    torch_dtype: str = field(
        default="auto", metadata={"help": "Model weights dtype: auto, bfloat16, float16 or float32."}
    )
    attn_implementation: str | None = field(
        default=None, metadata={"help": "transformers attention implementation (e.g. sdpa, flash_attention_2)."}
    )
    rollouts: str = field(
        default="auto",
        metadata={
            "help": "Who samples completions: 'vllm' (TRL's colocated vLLM engine, video included), 'transformers' "
            "(model.generate), or 'auto' (vllm when the vllm package is installed and a CUDA GPU is present). "
            "use_vllm: true means 'vllm'."
        },
    )

    def __post_init__(self) -> None:
        from spatial_r1_eval.trainer.rewards import REWARD_FUNCS

        if not self.model_name_or_path:
            raise ValueError("model_name_or_path must not be empty")
        if not self.dataset_path:
            raise ValueError("dataset_path must not be empty")
        if self.max_samples is not None and self.max_samples < 1:
            raise ValueError(f"max_samples must be >= 1, got {self.max_samples}")
        if self.synthetic_scenes < 1:
            raise ValueError(f"synthetic_scenes must be >= 1, got {self.synthetic_scenes}")
        if not self.reward_funcs:
            raise ValueError("reward_funcs must name at least one reward")
        for name in self.reward_funcs:
            if name not in REWARD_FUNCS:
                raise ValueError(f"reward_funcs: unknown reward {name!r} (known: {', '.join(sorted(REWARD_FUNCS))})")
        if not (0 < self.nar_start <= self.nar_end < 1 and self.nar_interval > 0):
            raise ValueError(
                f"NAR thresholds need 0 < nar_start <= nar_end < 1 and nar_interval > 0, got "
                f"{self.nar_start}, {self.nar_end}, {self.nar_interval}"
            )
        if self.rollouts not in ROLLOUTS:
            raise ValueError(f"rollouts must be one of {', '.join(ROLLOUTS)}, got {self.rollouts!r}")
        if self.torch_dtype not in _DTYPES:
            raise ValueError(f"torch_dtype must be one of {', '.join(_DTYPES)}, got {self.torch_dtype!r}")
        self.video_budget  # validates frames and pixels  # noqa: B018

    @property
    def video_budget(self) -> VideoBudget:
        """The video budget of this run (validated)."""
        return VideoBudget(self.video_frames, self.video_max_pixels, self.video_min_pixels)

    def resolved_dataset_path(self, output_dir: str | os.PathLike[str]) -> str:
        """``dataset_path``, or the synthetic SR data folder's ``sr_train.jsonl`` for ``synthetic``."""
        if self.dataset_path != SYNTHETIC_DATA:
            return self.dataset_path
        from spatial_r1_eval.trainer.data import prepare_synthetic_sr

        return str(prepare_synthetic_sr(os.path.join(output_dir, "sr_data"), n_scenes=self.synthetic_scenes))

    def resolved_model_path(self, output_dir: str | os.PathLike[str], seed: int = 0) -> str:
        """``model_name_or_path``, or the tiny model built (once) into ``<output_dir>/tiny-model`` for ``tiny``."""
        if self.model_name_or_path != TINY_MODEL:
            return self.model_name_or_path
        from spatial_r1_eval.tiny_model import build_tiny_qwen2_5_vl

        path = os.path.join(output_dir, "tiny-model")
        if not os.path.isfile(os.path.join(path, "config.json")):
            build_tiny_qwen2_5_vl(path, seed=seed)
        return path


def use_vllm_for(rollouts: str, use_vllm: bool, *, vllm_installed: bool, cuda_available: bool) -> bool:
    """Whether the run samples with vLLM, from ``rollouts`` and GRPOConfig's ``use_vllm``.

    Args:
        rollouts: ``auto``, ``vllm`` or ``transformers``.
        use_vllm: ``GRPOConfig.use_vllm`` as given (``true`` asks for vLLM like ``rollouts: vllm``).
        vllm_installed: Whether the ``vllm`` package can be imported.
        cuda_available: Whether a CUDA GPU is present (``auto`` needs one).

    Raises:
        ValueError: vLLM is asked for but not installed, or ``use_vllm: true`` contradicts ``rollouts: transformers``.

    Example:
        >>> use_vllm_for("auto", False, vllm_installed=True, cuda_available=False)
        False
        >>> use_vllm_for("auto", False, vllm_installed=True, cuda_available=True)
        True
        >>> use_vllm_for("vllm", False, vllm_installed=False, cuda_available=True)
        Traceback (most recent call last):
        ...
        ValueError: rollouts: vllm needs the vllm package: pip install 'spatial-r1-eval[gpu]'
    """
    if rollouts not in ROLLOUTS:
        raise ValueError(f"rollouts must be one of {', '.join(ROLLOUTS)}, got {rollouts!r}")
    if rollouts == "transformers":
        if use_vllm:
            raise ValueError("use_vllm: true contradicts rollouts: transformers; drop one of them")
        return False
    if rollouts == "vllm" or use_vllm:
        if not vllm_installed:
            raise ValueError("rollouts: vllm needs the vllm package: pip install 'spatial-r1-eval[gpu]'")
        return True
    return vllm_installed and cuda_available


def _check_config_keys(path: str, dataclasses: tuple[type, ...]) -> None:
    """Reject a config key that no dataclass has, naming the file, the key and the nearest known key.

    TrlParser only reports unknown config keys after every dataclass check ran, so an unrelated check (e.g. bf16
    on a CPU machine) would hide a misspelt key; this check runs first.

    Raises:
        ValueError: ``<path>: unknown key 'video_frame' (did you mean 'video_frames'?)``.
    """
    import difflib
    from dataclasses import fields

    import yaml

    with open(path, encoding="utf-8") as f:
        try:
            config = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ValueError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: a recipe is a YAML mapping of option: value, got {type(config).__name__}")
    known = {f.name for dc in dataclasses for f in fields(dc) if f.init} | {"env"}  # env: TrlParser's env vars
    problems = []
    for key in (k for k in map(str, config) if k not in known):  # in the order of the file
        close = difflib.get_close_matches(key, sorted(known), n=1)
        problems.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    if problems:
        raise ValueError(f"{path}: unknown key{'s' if len(problems) > 1 else ''} {', '.join(problems)}")


def parse_config(argv: list[str]):
    """Parse ``--config FILE`` plus override flags into ``(SpatialR1Arguments, GRPOConfig)`` with ``TrlParser``.

    Raises:
        FileNotFoundError: The config file does not exist.
        ValueError: Unknown keys or bad values (from the dataclasses' checks).
    """
    from trl import GRPOConfig, TrlParser

    if "--config" in argv:
        cfg = argv[argv.index("--config") + 1] if argv.index("--config") + 1 < len(argv) else ""
        if not os.path.isfile(cfg):
            raise FileNotFoundError(f"{cfg}: no such config file")
    parser = TrlParser((SpatialR1Arguments, GRPOConfig))
    if "--config" in argv:
        _check_config_keys(cfg, (SpatialR1Arguments, GRPOConfig))
    try:
        script_args, grpo_args = parser.parse_args_and_config(args=argv)
    except SystemExit as e:  # argparse reports unknown/bad flags by exiting
        raise ValueError(f"bad training arguments {argv} (see the message above)") from e
    import importlib.util

    import torch

    grpo_args.use_vllm = use_vllm_for(
        script_args.rollouts,
        grpo_args.use_vllm,
        vllm_installed=importlib.util.find_spec("vllm") is not None,
        cuda_available=torch.cuda.is_available(),
    )
    return script_args, grpo_args
