"""Model versions in ``<home>/models/``: which model is active, where each one came from, and a
safe way back.

Layout of ``<home>/models/``::

    digitpad-v1.onnx / .pt    the shipped model (only in the checkout; other homes resolve v1 to
                              the checkout's shipped file, which is never written to)
    digitpad-vN.onnx / .pt    retrained versions (N >= 2) and their torch checkpoints
    registry.json             the versions, their status and metrics, and the active version

Modules: :mod:`.versions` (version numbers, :class:`ModelEntry`), :mod:`.integrity` (cheap model
file checks), :mod:`.document` (``registry.json``, atomic replace, writer lock) and :mod:`.api`
(:class:`ModelRegistry`). Nothing here imports torch or onnxruntime (the app reads it on start).
"""

from __future__ import annotations

from digitpad.fsutil import atomic_write_bytes
from digitpad.home import shipped_model_path
from digitpad.registry.api import ModelRegistry, active_model_path
from digitpad.registry.document import FORMAT, LOCK_NAME, REGISTRY_NAME
from digitpad.registry.integrity import check_model_file, file_sha256
from digitpad.registry.versions import (
    SHIPPED_VERSION,
    STATUSES,
    ModelEntry,
    ModelFallbackWarning,
    parse_version,
    version_name,
)

__all__ = [
    "FORMAT",
    "LOCK_NAME",
    "REGISTRY_NAME",
    "SHIPPED_VERSION",
    "STATUSES",
    "ModelEntry",
    "ModelFallbackWarning",
    "ModelRegistry",
    "active_model_path",
    "atomic_write_bytes",
    "check_model_file",
    "file_sha256",
    "parse_version",
    "shipped_model_path",
    "version_name",
]
