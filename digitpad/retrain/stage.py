"""Fitting the context stage to a retrained classifier and to the person's own pages.

A retrain fine-tunes the classifier; the context stage (:mod:`digitpad.context`) was trained on
generated pages read by the classifier before it. Left as it is, it turns down readings the
person's corrections have just taught: on issue 5's simulated writer, with the shipped model,
19 of the 40 errors left after 50 corrections (seed 12) were boxes whose crop the new
classifier alone read right (``benchmarks/HISTORY.md``, 2026-12-07).

So, once the gate has promoted the classifier, the stage is fine-tuned briefly on the context
rows of the person's reviewed pages, mixed with the rows of freshly generated pages (replay:
the stage must keep what it knew about letters, rulings and specks). The rows are read as the
shipped stage's own were (:func:`digitpad.training.context.collect`: the new classifier alone
decides which cuts are tried). Then other generated pages are read end to end, with the stage
before and with the fitted one, counting the boxes a careful person would have to fix
(relabel, add or delete: :func:`~digitpad.retrain.simulate.review_outcomes`). The fitted
stage is kept if it needs at most ``max_extra_fixes`` more fixes there; if not, it is blended
halfway back towards the stage before and checked again (as the classifier's weights are, see
:func:`~digitpad.retrain.run.blend_weights`); failing that, or past ``max_seconds``, the stage
before stays. Training code: torch is imported where it is used, so that reading
``StageConfig`` (the retrain's options) costs nothing.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.context import WIDTH
from digitpad.progress import ProgressEvent, ProgressSink, null_sink
from digitpad.retrain.data import check_stop
from digitpad.types import SynthPage

# Seeds of the generated pages, offset from the retrain's own: never the replay crops' pages.
REPLAY_SEED_OFFSET = 20_000
CHECK_SEED_OFFSET = 30_000
_CHUNK = 20  # pages read between two looks at should_stop


@dataclass(frozen=True)
class StageConfig:
    """How the stage is fitted: the ``max_person_pages`` most recently added reviewed pages
    give the person's rows, ``pages`` generated pages the replay rows, ``check_pages`` others
    the check; the person's rows are repeated (at most ``max_repeat`` times) until they weigh
    about ``correction_share`` of the training rows; ``blend`` are the shares of the fitted
    weights tried in turn. Chosen on synthetic stand-in writers and generated pages
    (``benchmarks/HISTORY.md``)."""

    pages: int = 200
    check_pages: int = 60
    max_person_pages: int = 200
    epochs: int = 2
    lr: float = 1e-3
    weight_decay: float = 1e-4
    correction_share: float = 0.15
    max_repeat: int = 20
    batch_size: int = 256
    max_extra_fixes: int = 1  # over all the check pages, against the stage before
    blend: tuple[float, ...] = (1.0, 0.5)
    max_seconds: float = 90.0  # past it the stage before stays: a retrain must not run away


@dataclass(frozen=True)
class StageFit:
    """The checkpoint to export (with the fitted stage, or the old one when ``adapted`` is
    False) and what happened, for the registry."""

    checkpoint: dict
    adapted: bool
    metrics: dict[str, Any]

    def describe(self) -> str:
        """One line for the retrain's progress."""
        m = self.metrics
        fixes = m["check_fixes"]
        if self.adapted:
            after = fixes[f"{m['blend']:g}"]
            return (
                f"context stage fitted to your pages ({m['blend']:.0%} of the fit; fixes on"
                f" {m['check_pages']} generated pages {fixes['before']} -> {after})"
            )
        if m.get("timed_out"):
            return f"context stage kept as it was (its fit passed its {m['max_seconds']:g} s limit)"
        if not fixes:
            return "context stage kept as it was (your pages gave it nothing to learn)"
        return "context stage kept as it was (fitted, it read the generated check pages worse)"


class _OutOfTime(Exception):
    """The fit passed ``StageConfig.max_seconds``."""


def fit_stage(
    checkpoint: dict,
    pages: Sequence[SynthPage],
    config: StageConfig,
    *,
    seed: int,
    progress: ProgressSink = null_sink,
    should_stop: Callable[[], bool] = lambda: False,
) -> StageFit:
    """Fit ``checkpoint``'s context stage to its classifier and to ``pages`` (the person's
    reviewed pages, their digits as annotations).

    The classifier's weights are not touched. Deterministic for a given ``seed``.

    Raises:
        ValueError: ``checkpoint`` has no context stage.
        Cancelled: ``should_stop()`` became true.
    """
    if "context" not in checkpoint:
        raise ValueError("the checkpoint has no context stage to fit")
    started = time.monotonic()
    budget = _Budget(started + config.max_seconds, progress, should_stop)
    pages = list(pages)[-config.max_person_pages :] if config.max_person_pages > 0 else []
    metrics: dict[str, Any] = {"adapted": False, "blend": None, "check_fixes": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="digitpad-stage-") as tmp:
            fitted = _fit_and_check(checkpoint, pages, config, seed, Path(tmp), budget, metrics)
    except _OutOfTime:
        fitted = None
        metrics.update(adapted=False, blend=None, timed_out=True, max_seconds=config.max_seconds)
    metrics["seconds"] = round(time.monotonic() - started, 1)
    if fitted is None:
        return StageFit(checkpoint, False, metrics)
    return StageFit({**checkpoint, "context": fitted}, True, metrics)


def _fit_and_check(
    checkpoint: dict,
    pages: list[SynthPage],
    config: StageConfig,
    seed: int,
    folder: Path,
    budget: _Budget,
    metrics: dict[str, Any],
) -> dict | None:
    """The stage to keep (None: the stage before); fills ``metrics`` as it goes."""
    from digitpad.training.context import classifier_alone, stage_pages

    classifier = classifier_alone(checkpoint, folder)
    rows_c, y_c = _read_rows(classifier, pages, len(pages), budget)
    replay = stage_pages(config.pages, seed + REPLAY_SEED_OFFSET)
    rows_s, y_s = _read_rows(classifier, replay, config.pages, budget)
    metrics.update(rows_person=len(y_c), rows_replay=len(y_s), person_pages=len(pages))
    fitted = _finetune(checkpoint["context"], rows_c, y_c, rows_s, y_s, config, seed)
    if fitted is None:
        return None
    check = list(stage_pages(config.check_pages, seed + CHECK_SEED_OFFSET))
    chosen, tried = _checked(checkpoint, fitted, check, config, folder, budget)
    metrics.update(adapted=chosen is not None, blend=chosen, check_fixes=tried)
    metrics["check_pages"] = len(check)
    if chosen is None:
        return None
    stage = _blend(checkpoint["context"], fitted, chosen)
    fit = {"pages": len(pages), "rows": len(y_c), "blend": chosen, "seed": seed}
    return {**stage, "metrics": {**stage.get("metrics", {}), "fitted": fit}}


class _Budget:
    """The fit's time limit, the retrain's cancel and its progress, looked at between chunks."""

    def __init__(self, deadline: float, progress: ProgressSink, should_stop) -> None:
        self.deadline, self.progress, self.should_stop = deadline, progress, should_stop

    def check(self) -> None:
        """Raises Cancelled (asked to stop) or _OutOfTime (past the deadline)."""
        check_stop(self.should_stop)
        if time.monotonic() > self.deadline:
            raise _OutOfTime()

    def step(self, done: int, total: int, what: str) -> None:
        self.progress(ProgressEvent("stage", step=done, total=max(total, done), message=what))


def _checked(
    checkpoint: dict, fitted: dict, pages: list[SynthPage], config: StageConfig, folder, budget
) -> tuple[float | None, dict[str, int]]:
    """The first share of ``config.blend`` whose stage needs at most ``max_extra_fixes`` more
    fixes on ``pages`` than the stage before (None: none does), and the fixes each stage read
    needed, keyed "before" and by share. Each page is segmented once: only the stage differs."""
    from digitpad.segment import segment

    segmented = []
    for page in pages:
        budget.check()
        segmented.append((page, segment(page.image)))
    old = checkpoint["context"]
    before = _fixes({**checkpoint, "context": old}, segmented, folder, budget)
    tried = {"before": before}
    for alpha in config.blend:
        stage = _blend(old, fitted, alpha)
        n = _fixes({**checkpoint, "context": stage}, segmented, folder, budget)
        tried[f"{alpha:g}"] = n
        if n <= before + config.max_extra_fixes:
            return alpha, tried
    return None, tried


def _blend(old: dict, fitted: dict, alpha: float) -> dict:
    from digitpad.retrain.run import blend_weights

    return {**fitted, "state_dict": blend_weights(old, fitted, alpha)["state_dict"]}


def _fixes(checkpoint: dict, segmented: list, folder: Path, budget: _Budget) -> int:
    """Boxes a careful person would relabel, add or delete on the ``(page, segmentation)``
    pairs of ``segmented``, read end to end by the model of ``checkpoint``."""
    from digitpad.classifier import Classifier
    from digitpad.recognise_service import read_page
    from digitpad.retrain.simulate import review_outcomes
    from digitpad.training.export import export_onnx

    path = folder / "check.onnx"
    export_onnx(checkpoint, path, version="check", metadata={})
    classifier = Classifier.load(path)
    fixes = 0
    for k, (page, seg) in enumerate(segmented, start=1):
        budget.check()
        h, w = page.image.shape[:2]
        outcomes = review_outcomes(page.annotations, read_page(classifier, seg, w, h))
        fixes += sum(o.outcome in ("relabelled", "added", "deleted") for o in outcomes)
        if k % _CHUNK == 0:
            budget.step(k, len(segmented), "checking the fitted context stage")
    return fixes


def _read_rows(
    classifier: Any, pages: Iterable[SynthPage], total: int, budget: _Budget
) -> tuple[np.ndarray, np.ndarray]:
    """Context rows and their true classes for ``pages``, read in chunks between checks."""
    from digitpad.training.context import collect

    rows, labels, done = [], [], 0
    for chunk in _chunks(iter(pages)):
        budget.check()
        r, y = collect(classifier, chunk)
        rows.append(r)
        labels.append(y)
        done += len(chunk)
        budget.step(done, total, "reading pages for the context stage")
    if not rows:
        return np.zeros((0, WIDTH), np.float32), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(labels)


def _chunks(pages: Iterator[SynthPage]) -> Iterator[list[SynthPage]]:
    chunk: list[SynthPage] = []
    for page in pages:
        chunk.append(page)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _finetune(
    stage: dict,
    rows_c: np.ndarray,
    y_c: np.ndarray,
    rows_s: np.ndarray,
    y_s: np.ndarray,
    config: StageConfig,
    seed: int,
) -> dict | None:
    """A few epochs of the stage's MLP on the person's rows (repeated) and the replay rows
    (None when the person's pages gave no rows). The feature standardisation stays the
    stage's own: the rows are read the same way."""
    import torch
    import torch.nn.functional as F

    from digitpad.training.train import build_context_net

    if len(y_c) == 0:
        return None
    share = min(max(config.correction_share, 0.0), 0.95)
    wanted = round(share / (1.0 - share) * len(y_s) / len(y_c))
    repeat = max(1, min(config.max_repeat, wanted))
    X = torch.from_numpy(np.concatenate([np.repeat(rows_c, repeat, 0), rows_s]).astype(np.float32))
    y = torch.from_numpy(np.concatenate([np.repeat(y_c, repeat), y_s]).astype(np.int64))
    threads = torch.get_num_threads()
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # one thread: the same rows give the same weights
    try:
        net = build_context_net(stage)
        net.train()
        opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        rng = np.random.default_rng(seed)
        for _ in range(config.epochs):
            perm = torch.from_numpy(rng.permutation(len(y)))
            for start in range(0, len(y), config.batch_size):
                idx = perm[start : start + config.batch_size]
                loss = F.cross_entropy(net(X[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        net.eval()
    finally:
        torch.set_num_threads(threads)  # the retrain's own setting, for what follows
    state = {n: t.detach().clone() for n, t in net.state_dict().items()}
    return {**stage, "state_dict": state}
