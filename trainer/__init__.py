"""GRPO fine-tuning of video MLLMs on SR, rewarded by the evaluation metrics (``spatial_r1_eval.metrics``)."""
