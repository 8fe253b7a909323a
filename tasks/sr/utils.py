"""lmms-eval task `sr`: the hooks its YAMLs name as ``utils.<name>`` (see tasks/hooks.py).

The hooks shared by every task are named in ``../_default_template_yaml`` by their module path
(``spatial_r1_eval.tasks.hooks.<name>``).
"""

from spatial_r1_eval.tasks.hooks import (  # noqa: F401
    direct_doc_to_messages_blind,
    doc_to_visual_blind,
    sr_process_docs,
    sr_process_docs_blind,
)
