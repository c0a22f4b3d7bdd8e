"""Code that runs INSIDE the student's kernel: stdlib only at import, judges nothing.

``exporter`` turns an answer into plain data after its answer cell; ``layers`` describes a
model's layers (also used by the grader on its own reference models); ``public`` runs the
hand-out's public checks (``check()``), ``sealed`` its digests and sealed mistakes.
"""
