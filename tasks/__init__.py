"""lmms-eval tasks shipped with spatial-r1-eval: pass this folder to ``lmms-eval --include_path``.

The folder is found with ``importlib.util.find_spec("spatial_r1_eval.tasks").submodule_search_locations[0]``
(also printed by ``spatial-r1 eval --print-include-path``).
"""
