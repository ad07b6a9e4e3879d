"""Cheap checks that a model file is still the one registered, without loading it.

No torch, no onnxruntime: existence, the ONNX protobuf header byte, and (when recorded at
registration) the exact size and SHA-256. The classifier does the real load.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# A serialised onnx ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
_ONNX_FIRST_BYTE = 0x08
_MIN_ONNX_BYTES = 64


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_model_file(
    path: Path, *, size: int | None = None, sha256: str | None = None
) -> str | None:
    """Why ``path`` is not a usable ONNX model, or None when it looks fine.

    Cheap: existence, the protobuf header byte, and (when recorded) the exact size and hash.
    It does not load the model; the classifier does that.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return f"{path.name} is missing"
    except OSError as exc:
        return f"{path.name} cannot be read: {exc.strerror or exc}"
    if st.st_size < _MIN_ONNX_BYTES:
        return f"{path.name} is truncated ({st.st_size} bytes)"
    if size is not None and st.st_size != size:
        return f"{path.name} changed size ({st.st_size} bytes, registered {size})"
    try:
        with open(path, "rb") as fh:
            first = fh.read(1)
    except OSError as exc:
        return f"{path.name} cannot be read: {exc.strerror or exc}"
    if not first or first[0] != _ONNX_FIRST_BYTE:
        return f"{path.name} is not an ONNX model"
    if sha256 is not None and file_sha256(path) != sha256:
        return f"{path.name} is corrupt (its checksum changed)"
    return None
