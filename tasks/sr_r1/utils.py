"""lmms-eval task `sr_r1`: re-exports the shared implementation in :mod:`spatial_r1_eval.tasks.hooks`."""

from spatial_r1_eval.tasks.hooks import (  # noqa: F401
    aggregate_format,
    aggregate_obj_appearance_order,
    aggregate_object_abs_distance,
    aggregate_object_counting,
    aggregate_object_rel_direction,
    aggregate_object_rel_distance,
    aggregate_object_size_estimation,
    aggregate_overall,
    aggregate_room_size_estimation,
    aggregate_route_planning,
    doc_to_visual,
    doc_to_visual_blind,
    r1_doc_to_messages,
    r1_doc_to_messages_blind,
    r1_doc_to_text,
    r1_process_results,
    sr_process_docs,
    sr_process_docs_blind,
)
