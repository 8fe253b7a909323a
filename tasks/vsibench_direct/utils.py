"""lmms-eval task `vsibench_direct`: re-exports the shared implementation in :mod:`spatial_r1_eval.tasks.hooks`."""

from spatial_r1_eval.tasks.hooks import (  # noqa: F401
    aggregate_obj_appearance_order,
    aggregate_object_abs_distance,
    aggregate_object_counting,
    aggregate_object_rel_direction,
    aggregate_object_rel_distance,
    aggregate_object_size_estimation,
    aggregate_overall,
    aggregate_room_size_estimation,
    aggregate_route_planning,
    direct_doc_to_messages,
    direct_doc_to_messages_blind,
    direct_doc_to_text,
    doc_to_visual,
    doc_to_visual_blind,
    process_results,
    vsibench_process_docs,
    vsibench_process_docs_blind,
)
