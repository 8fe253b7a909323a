"""spatial-r1-eval: video spatial reasoning for multimodal LLMs.

The core (this package) holds the question-type vocabulary, answer extraction, the NAR / MAR / format
metrics and the per-record scorer. The satellites live in their own folders, mapped into this namespace:
``spatial_r1_eval.generation`` (ScanNet → SR dataset), ``spatial_r1_eval.tasks`` (lmms-eval tasks),
``spatial_r1_eval.trainer`` (GRPO) and ``spatial_r1_eval.leaderboard`` (tables, plots, statistics).
Nothing in the core imports the satellites.
"""

__version__ = "0.1.0"
