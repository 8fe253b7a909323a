"""``spatial-r1 audit``: check a spatial-QA training set for test leakage, broken questions, answer bias and wrong
answers.

Modules (the scene lists live in :mod:`spatial_r1_eval.generation.scene_lists`): ``readers``
(format detection, normalised rows), ``leakage``, ``sanity``, ``bias`` (chance_frequency and a cross-validated
text-only model), ``verify`` (answers re-derived from ScanNet scans with the generators), ``report`` (the whole
audit and its terminal summary), ``html`` (the page), ``cli`` (the command).
"""
