"""Checkpoints on disk and ONNX export with metadata, both written atomically."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import warnings
from pathlib import Path

import torch

from digitpad.errors import ModelError
from digitpad.preprocess import SIZE
from digitpad.training.model import WithContext, WithSoftmax
from digitpad.training.train import build_context_net, build_model
from digitpad.types import CLASSES, CONTEXT_WIDTH

OPSET = 17


def export_onnx(checkpoint: dict, path: Path, *, version: str, metadata: dict[str, str]) -> None:
    """Write ``checkpoint``'s model as an ONNX file computing probabilities (N, 11), with its
    context stage as a second input and output when the checkpoint has one (see
    :mod:`digitpad.classifier`).

    Metadata properties: ``version`` (e.g. "v2"), ``classes`` (comma separated, index order),
    ``created`` (UTC ISO time), ``input`` and every entry of ``metadata`` (e.g. "data",
    "validation"). Written to a temporary file in the same folder, fsynced, then renamed over
    ``path``, so a reader never sees half a model.
    """
    import onnx

    buf = io.BytesIO()
    with warnings.catch_warnings():
        # the TorchScript exporter (dynamo=False) is deprecated but is the one that works here
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(checkpoint, buf)
    model = onnx.load_from_string(buf.getvalue())
    props = {
        "version": version,
        "classes": ",".join(CLASSES),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input": f"(N,1,{SIZE},{SIZE}) float32 ink in [0,1] from digitpad.preprocess",
        **(
            {"context": f"(M,{CONTEXT_WIDTH}) float32 from digitpad.context.context_input"}
            if "context" in checkpoint
            else {}
        ),
        **{k: str(v) for k, v in metadata.items()},
    }
    del model.metadata_props[:]
    for k, v in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    _atomic_write(Path(path), model.SerializeToString())


def _export(checkpoint: dict, buf: io.BytesIO) -> None:
    crops = torch.zeros(1, 1, SIZE, SIZE)
    if "context" not in checkpoint:
        net: torch.nn.Module = WithSoftmax(build_model(checkpoint)).eval()
        args: tuple[torch.Tensor, ...] = (crops,)
        axes = {"crops": {0: "n"}, "probs": {0: "n"}}
    else:
        net = WithContext(build_model(checkpoint), build_context_net(checkpoint["context"]))
        args = (crops, torch.zeros(1, CONTEXT_WIDTH))
        # the two branches take their own batch sizes
        axes = {"crops": {0: "n"}, "probs": {0: "n"}, "context": {0: "m"}, "reranked": {0: "m"}}
    torch.onnx.export(
        net.eval(),
        args,
        buf,
        input_names=[k for k in ("crops", "context") if k in axes],
        output_names=[k for k in ("probs", "reranked") if k in axes],
        dynamic_axes=axes,
        opset_version=OPSET,
        dynamo=False,
    )


def save_checkpoint(checkpoint: dict, path: Path) -> None:
    """Write ``checkpoint`` with ``torch.save``, atomically (temp file, fsync, rename)."""
    buf = io.BytesIO()
    torch.save(checkpoint, buf)
    _atomic_write(Path(path), buf.getvalue())


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (plain tensors and builtins only).

    Raises:
        ModelError: the file is missing or is not a digitpad checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged file
        raise ModelError(f"{path.name}: not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or not {"model_config", "state_dict"} <= ckpt.keys():
        raise ModelError(f"{path.name}: not a digitpad checkpoint")
    return ckpt


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model file is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
