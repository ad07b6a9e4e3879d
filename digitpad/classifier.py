"""The digit classifier at inference time: one ONNX model behind one onnxruntime session.

This is the only module that imports onnxruntime. A model file is an ONNX graph with an input
``crops`` (N, 1, 28, 28) float32 and an output ``probs`` (N, 11) of class probabilities, in the
order of :data:`digitpad.types.CLASSES`, plus metadata properties written by
:func:`digitpad.training.export.export_onnx` (``version``, ``classes``, ``created``, ``data``,
``validation``...). A model may also have a context stage: a second input ``context``
(M, :data:`~digitpad.types.CONTEXT_WIDTH`), the classifier's probabilities of M boxes beside their
:func:`~digitpad.context.box_features`, and a second output ``reranked`` (M, 11), their
probabilities read again in the light of the page. Models without it still load.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from digitpad.errors import ModelError
from digitpad.types import CLASSES, CONTEXT_WIDTH, CROP_SIZE

# Two threads halve the inference time of a page's batch (10 crops: 2.0 -> 1.1 ms, 42 crops:
# 8.2 -> 4.4 ms on the 2-core machine). Within a run the workers spin between the graph's
# nodes: woken from sleep at every node, a 10-digit row took 5.3 ms against 4.6 (median of 6
# interleaved rounds, 2026-12-06). Between runs they stop spinning and sleep, so the UI thread
# and a retrain running beside us get the core back as soon as a batch is done.
INTRA_OP_THREADS = max(1, min(2, os.cpu_count() or 1))


class Classifier:
    """Owns one onnxruntime ``InferenceSession``. Create it with :meth:`load`.

    Attributes: ``path`` (the model file), ``version`` ("v1", "v2"...), ``metadata`` (every
    metadata property of the file, as strings), ``classes`` (class labels, index order),
    ``has_context`` (the model has a context stage: see :meth:`rerank`).
    """

    def __init__(self, session: object, path: Path, metadata: dict[str, str]) -> None:
        self._session = session
        self.path = path
        self.metadata = metadata
        self.version = metadata.get("version", "v1")
        self.classes: tuple[str, ...] = tuple(
            metadata["classes"].split(",") if metadata.get("classes") else CLASSES
        )
        names = [i.name for i in session.get_inputs()]  # type: ignore[attr-defined]
        self._input = names[0]
        self._outputs = [o.name for o in session.get_outputs()]  # type: ignore[attr-defined]
        self.has_context = len(names) == 2
        self._context = names[1] if self.has_context else ""
        # feeds for the branch a call does not ask for: onnxruntime wants every input fed
        self._no_crops = np.zeros((0, 1, CROP_SIZE, CROP_SIZE), np.float32)
        self._no_context = np.zeros((0, CONTEXT_WIDTH), np.float32)

    @classmethod
    def load(cls, path: Path | str) -> Classifier:
        """Load an ONNX model file.

        Raises:
            ModelError: the file is missing, is not a valid ONNX model, or has the wrong input or
                output shape (a fixed batch size included), type or class list.
        """
        import onnxruntime as ort

        path = Path(path)
        if path.is_dir():
            raise ModelError(f"{path} is a folder, not a model file (give its .onnx file)")
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = INTRA_OP_THREADS
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1")
        opts.add_session_config_entry("session.force_spinning_stop", "1")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # no warnings on stderr for the user
        try:
            session = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise ModelError(f"{path.name}: not a usable ONNX model ({_first_line(exc)})") from None
        meta = dict(session.get_modelmeta().custom_metadata_map)
        clf = cls(session, path, meta)
        clf._check_shape()
        return clf

    def _check_shape(self) -> None:
        inputs = self._session.get_inputs()  # type: ignore[attr-defined]
        outputs = self._session.get_outputs()  # type: ignore[attr-defined]
        if len(inputs) not in (1, 2) or len(outputs) != len(inputs):
            raise ModelError(f"{self.path.name}: expected one input and one output, or two of each")
        in_shape = list(inputs[0].shape)
        if len(in_shape) != 4 or in_shape[1:] != [1, CROP_SIZE, CROP_SIZE]:
            raise ModelError(f"{self.path.name}: input shape {in_shape}, expected [N, 1, 28, 28]")
        for put in (*inputs, *outputs):
            # a page's crops go in one call of any size (a fixed batch of 1 is what an export
            # without dynamic axes gives), and the preprocessing makes float32
            if put.shape[:1] == [] or isinstance(put.shape[0], int) or put.type != "tensor(float)":
                raise ModelError(
                    f"{self.path.name}: {put.name} is {put.type} {list(put.shape)}, "
                    "expected float32 with a free batch size"
                )
        if self.has_context and list(inputs[1].shape)[1:] != [CONTEXT_WIDTH]:
            raise ModelError(
                f"{self.path.name}: context shape {list(inputs[1].shape)}, "
                f"expected [M, {CONTEXT_WIDTH}]"
            )
        for out in outputs:
            out_shape = list(out.shape)
            if len(out_shape) != 2 or out_shape[1] != len(CLASSES):
                raise ModelError(f"{self.path.name}: output shape {out_shape}, expected [N, 11]")
        if self.classes != CLASSES:
            raise ModelError(f"{self.path.name}: class list {self.classes} is not {CLASSES}")

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities (N, 11) float32 for a (N, 1, 28, 28) float32 batch, in one call.

        An empty batch gives an empty (0, 11) array without running the model.

        Raises:
            ModelError: the model fails to run, or gives values that are no probabilities.
        """
        if batch.shape[0] == 0:
            return np.zeros((0, len(CLASSES)), np.float32)
        x = np.ascontiguousarray(batch, dtype=np.float32)
        return self._run(0, x, self._no_context)

    def rerank(self, rows: np.ndarray) -> np.ndarray:
        """Probabilities (M, 11) float32 of M boxes read again by the context stage, from their
        rows (M, CONTEXT_WIDTH) of :func:`digitpad.context.context_input`. A model without a context
        stage returns the probabilities in the rows unchanged; no rows give (0, 11).

        Raises:
            ModelError: the model fails to run, or gives values that are no probabilities.
        """
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if not self.has_context or rows.shape[0] == 0:
            return np.ascontiguousarray(rows[:, : len(CLASSES)])
        return self._run(1, self._no_crops, rows)

    def _run(self, output: int, crops: np.ndarray, context: np.ndarray) -> np.ndarray:
        feed = {self._input: crops}
        if self.has_context:
            feed[self._context] = context
        wanted = [self._outputs[output]]
        try:
            out = self._session.run(wanted, feed)  # type: ignore[attr-defined]
        except Exception as exc:  # onnxruntime's errors share no base class but Exception
            raise ModelError(f"{self.path.name}: inference failed ({_first_line(exc)})") from None
        probs = np.asarray(out[0], dtype=np.float32)
        # a broken model's NaN would pass every threshold test unseen and end in the JSON; a
        # NaN makes min and max NaN, and every comparison with NaN is false (two reductions)
        if probs.size and not (probs.min() >= 0.0 and probs.max() <= 1.0 + 1e-3):
            raise ModelError(f"{self.path.name}: gave values that are no probabilities")
        return probs

    def __repr__(self) -> str:
        return f"Classifier({self.path.name!r}, version={self.version!r})"


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160] or type(exc).__name__
