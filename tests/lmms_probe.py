"""Run the real lmms-eval CLI recording what every transformers model it loads receives (tests only).

``python tests/lmms_probe.py OUT.jsonl <lmms-eval arguments>`` (or ``OUT.jsonl serve <transformers serve
arguments>`` for an OpenAI-compatible server): every ``generate`` call of a loaded
``PreTrainedModel`` appends one JSON line to ``OUT.jsonl`` with the prompt token ids, the shape of every tensor
argument (the processor outputs: pixels, grids) and the grids' values, so a test can check what the model really
received. (transformers 5 runs the vision encoder inside ``generate`` before the first forward, which then gets
``mm_encoder_outputs`` instead of pixels, so ``generate``'s arguments are where the pixels are seen.)
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _install(out_path: str) -> None:
    import torch
    from transformers import PreTrainedModel

    original = PreTrainedModel.from_pretrained.__func__

    def record(model: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        shapes = {k: list(v.shape) for k, v in kwargs.items() if isinstance(v, torch.Tensor)}
        grids = {k: v.tolist() for k, v in kwargs.items() if k.endswith("grid_thw") and isinstance(v, torch.Tensor)}
        row = {"model": type(model).__name__, "input_ids": ids[0].tolist(), "shapes": shapes, "grids": grids}
        with open(out_path, "a") as f:
            f.write(json.dumps(row) + "\n")

    def from_pretrained(cls: type, *args: Any, **kwargs: Any) -> Any:
        model = original(cls, *args, **kwargs)
        generate = model.generate

        def recording_generate(*g_args: Any, **g_kwargs: Any) -> Any:
            record(model, g_args, g_kwargs)
            return generate(*g_args, **g_kwargs)

        model.generate = recording_generate
        return model

    PreTrainedModel.from_pretrained = classmethod(from_pretrained)


if __name__ == "__main__":
    _install(sys.argv[1])
    if sys.argv[2:3] == ["serve"]:  # ``transformers serve ...`` (an OpenAI-compatible server) instead of lmms-eval
        sys.argv = ["transformers", *sys.argv[2:]]
        from transformers.cli.transformers import main
    else:
        sys.argv = ["lmms_eval", *sys.argv[2:]]
        from lmms_eval.cli.dispatch import main
    main()
