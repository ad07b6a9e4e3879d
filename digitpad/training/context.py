"""Training the context stage (see :mod:`digitpad.context`) on top of a trained classifier.

The classifier is frozen. Generated pages it never trained on are read as the recogniser reads
them (:class:`~digitpad.recognise_service.PageReader`: whole boxes, the parts of their cuts,
unsure crops read again at two zooms; the cuts tried are those the classifier alone would try,
see :func:`collect`), and every box read gets the label a perfect reader would give it
(:func:`~digitpad.training.data.truth_reading`). The stage learns from those rows how the page
around a box changes what the classifier's reading means.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from digitpad.classifier import Classifier
from digitpad.context import WIDTH
from digitpad.progress import ProgressEvent, ProgressSink, null_sink
from digitpad.recognise_service import PageReader, read_segmented
from digitpad.segment import segment
from digitpad.training.data import truth_reading
from digitpad.training.model import ContextConfig, ContextNet
from digitpad.types import CLASSES, SynthPage

# Pages for the stage come from the build's seed plus this: never pages the classifier saw.
SEED_OFFSET = 5000
# Of every ten pages the stage reads, this many are full generated pages (paper, light,
# rulings, words); the others are plain pages of one digit or a few large ones, the canvas's
# usual layout, which full pages never show: a stage that never saw a lone digit took it for a
# stray mark (hwd1000 read alone on a page fell from 99.0 to 94.3 %).
FULL_PAGES_IN_TEN = 7
# A plain page: its size (integers() ranges, end exclusive) and its digits' heights, lone or few.
PLAIN_WIDTH, PLAIN_HEIGHT = (400, 1001), (300, 701)
LONE_DIGIT_HEIGHT, FEW_DIGIT_HEIGHT = (40, 200), (40, 130)


@dataclass(frozen=True)
class ContextTrainConfig:
    """How to train the context stage: ``pages`` generated pages are read for its data."""

    pages: int = 18000
    epochs: int = 16
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 1  # one thread: the same data gives the same weights
    model: ContextConfig = field(default_factory=ContextConfig)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d


def collect(
    classifier: Classifier,
    pages: Iterable[SynthPage],
    progress: ProgressSink = null_sink,
    total: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The context rows (N, WIDTH) of every box the recogniser reads on ``pages`` with
    ``classifier``, and their true class ids (N,). The rows hold the classifier's own
    probabilities; a stage the model already has still decides, as in the recogniser, which
    boxes are settled and which get cuts. ``build`` passes the bare classifier, so the stage
    learns from the cuts the classifier alone would try. With the stage the recogniser settles
    boxes on its own readings, so the parts it meets differ: fewer of them, and some from boxes
    the classifier alone would have settled. The unions of fragments of faint digits, and of
    fragments with their specks, are left out (``read_segmented(..., unions=False)``), and
    pages are segmented as for v1's crops (``segment(..., v1_crops=True)``): they came after
    the shipped stage was trained, and leaving them out keeps ``make model`` building its
    weights."""
    rows, labels = [], []
    for k, page in enumerate(pages, start=1):
        seg = segment(page.image, v1_crops=True)
        reader = PageReader(classifier, seg, record=True)
        read_segmented(seg, reader, unions=False)
        h, w = page.image.shape[:2]
        for boxes, r in reader.rows:
            truth, _ = truth_reading([seg.to_page(b, w, h) for b in boxes], page.annotations)
            rows.append(r)
            labels.append(truth.argmax(axis=1))
        if k % 50 == 0:
            progress(ProgressEvent("context data", step=k, total=total))
    if not rows:
        return np.zeros((0, WIDTH), np.float32), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(labels).astype(np.int64)


def train_context(
    rows: np.ndarray,
    labels: np.ndarray,
    config: ContextTrainConfig | None = None,
    *,
    progress: ProgressSink = null_sink,
) -> dict:
    """Train a :class:`ContextNet` on ``rows`` (N, WIDTH) with class ids ``labels`` (N,).

    A tenth of the rows (seeded) is held out to report how often the stage and the classifier
    alone are right. Returns the stage as a plain dict: ``config``, ``state_dict`` and
    ``metrics``.

    Raises:
        ValueError: ``rows`` and ``labels`` do not match or are empty.
    """
    config = config or ContextTrainConfig()
    if len(rows) == 0 or len(rows) != len(labels):
        raise ValueError(f"need matching non-empty rows and labels, got {len(rows)}, {len(labels)}")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    started = time.monotonic()
    net = ContextNet(config.model)
    k = len(CLASSES)
    X = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    order = rng.permutation(len(y))
    held, fit = order[: len(y) // 10], order[len(y) // 10 :]
    # standardise the features with the training rows' own spread (kept in the net)
    net.mean.copy_(X[fit, k:].mean(dim=0))
    # floored: a feature (nearly) constant in these rows must not blow up values seen later
    net.scale.copy_(torch.clamp(X[fit, k:].std(dim=0) + 1e-6, min=1e-2))
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = max(1, len(fit) // config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=steps * config.epochs
    )
    for epoch in range(1, config.epochs + 1):
        net.train()
        perm = torch.from_numpy(rng.permutation(fit))
        for s in range(steps):
            idx = perm[s * config.batch_size : (s + 1) * config.batch_size]
            loss = F.cross_entropy(net(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        progress(
            ProgressEvent("context", step=epoch, total=config.epochs, loss=float(loss.detach()))
        )
    net.eval()
    with torch.no_grad():
        stage = net(X[held]).argmax(dim=1) == y[held]
    alone = X[held, :k].argmax(dim=1) == y[held]
    metrics = {
        "n_rows": len(y),
        "held_out_acc": round(float(stage.float().mean()), 4),
        "held_out_acc_classifier": round(float(alone.float().mean()), 4),
        "seconds": round(time.monotonic() - started, 1),
    }
    return {
        "config": config.model.to_dict(),
        "state_dict": {n: t.detach().clone() for n, t in net.state_dict().items()},
        "train_config": config.to_dict(),
        "metrics": metrics,
    }


def stage_pages(n: int, seed: int) -> Iterator[SynthPage]:
    """The ``n`` pages the stage learns from, seeded: see ``FULL_PAGES_IN_TEN``. The plain
    pages hold one digit (two in three) or two to eight, 40 to 200 px high, drawn by the
    generator's glyph renderer, a Hershey font or rebuilt from scikit-learn's bundled digits."""
    from digitpad.synth.pages import generate_page, page_seed
    from digitpad.training.data import synth_glyph
    from digitpad.training.drawn import draw_page

    glyphs = (synth_glyph, None, SklearnGlyphs())  # None: draw_page's Hershey font
    for i in range(n):
        s = page_seed(seed, i)
        if i % 10 < FULL_PAGES_IN_TEN:
            yield generate_page(s)
            continue
        rng = np.random.default_rng(s)
        lone = rng.uniform() < 2 / 3
        yield draw_page(
            s,
            width=int(rng.integers(*PLAIN_WIDTH)),
            height=int(rng.integers(*PLAIN_HEIGHT)),
            n_digits=1 if lone else int(rng.integers(2, 9)),
            digit_height=LONE_DIGIT_HEIGHT if lone else FEW_DIGIT_HEIGHT,
            distractors=0 if lone else int(rng.integers(0, 3)),
            glyph=glyphs[int(rng.integers(len(glyphs)))],
        )


class SklearnGlyphs:
    """A ``draw_page`` glyph: one of scikit-learn's bundled digits of the label, rebuilt as a
    pen bitmap (:func:`~digitpad.training.data.bitmap_from_counts`), ``height`` px high."""

    def __init__(self) -> None:
        from sklearn.datasets import load_digits

        data = load_digits()
        self.by_label = {str(d): data.images[data.target == d] for d in range(10)}

    def __call__(self, label: str, height: int, rng: np.random.Generator) -> np.ndarray:
        import cv2

        from digitpad.training.data import bitmap_from_counts

        counts = self.by_label[label]
        ink = bitmap_from_counts(counts[int(rng.integers(len(counts)))], rng)
        ys, xs = np.nonzero(ink > 0.15)
        tight = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        width = max(1, round(tight.shape[1] * height / tight.shape[0]))
        return cv2.resize(tight, (width, height), interpolation=cv2.INTER_AREA)


def classifier_alone(checkpoint: dict, folder: Path) -> Classifier:
    """``checkpoint``'s classifier without its context stage, exported to ``folder`` and
    loaded: a stage learns from the rows and cuts the classifier alone gives (see
    :func:`collect`)."""
    from digitpad.training.export import export_onnx

    bare = {k: v for k, v in checkpoint.items() if k != "context"}
    path = folder / "classifier.onnx"
    export_onnx(bare, path, version="context", metadata={})
    return Classifier.load(path)


def context_stage(
    checkpoint: dict,
    config: ContextTrainConfig | None = None,
    *,
    seed: int,
    progress: ProgressSink = null_sink,
) -> dict:
    """A context stage for ``checkpoint``'s classifier: ``config.pages`` pages of
    :func:`stage_pages`, seed ``seed + SEED_OFFSET``, are read with it and the stage is
    trained on what it read.
    Returns the stage (see :func:`train_context`) with ``pages`` and ``page_seed`` in its
    metrics.

    Raises:
        ValueError: the pages gave no boxes to learn from.
    """
    config = config or ContextTrainConfig()
    with tempfile.TemporaryDirectory(prefix="digitpad-context-") as tmp:
        classifier = classifier_alone(checkpoint, Path(tmp))
        pages = stage_pages(config.pages, seed + SEED_OFFSET)
        rows, labels = collect(classifier, pages, progress, config.pages)
    stage = train_context(rows, labels, config, progress=progress)
    stage["metrics"].update(pages=config.pages, page_seed=seed + SEED_OFFSET)
    return stage
