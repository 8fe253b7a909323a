"""SR dataset generation: ScanNet readers → scene model → the eight SR generators → filters → exports.

Layers, each importable on its own:

- per-format readers (pure functions, NumPy out): PLY, segs JSON, aggregation JSON, scene ``.txt``, label
  TSV, ``.sens``, 2-D label PNGs;
- scene assembly (:mod:`spatial_r1_eval.generation.scene`): the :class:`~spatial_r1_eval.generation.scene.Scene`
  data model every generator consumes (also built from VSI-Bench ``meta_info`` for validation);
- generators, filters, exports and the ``spatial-r1 synth`` / ``generate`` / ``validate-vsibench`` commands.
"""
