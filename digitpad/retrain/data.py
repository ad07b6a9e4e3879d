"""The data of one retrain: the person's corrections, a held-out part of them, synthetic replay
against forgetting, and the fixed synthetic regression set.

Every crop goes through the engine's own path (``digitpad.training.data``): corrections are
cropped with ``crops_for_boxes`` (the segmenter's ink map + the shared preprocess, exactly as
inference crops them) and synthetic data with ``synthetic_crops`` (what the segmenter produces on
generated pages). Class indices follow :data:`digitpad.types.CLASSES` (10 = not a digit).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.errors import TrainingError
from digitpad.fsutil import atomic_write_bytes
from digitpad.home import PACKAGE_DIR
from digitpad.progress import ProgressEvent, ProgressSink, null_sink
from digitpad.types import CLASSES, NOT_DIGIT, NOT_DIGIT_INDEX, Annotation, Box, SynthPage

N_CLASSES = len(CLASSES)
NOT_DIGIT_ID = NOT_DIGIT_INDEX
REGRESSION_SEED = 5_050_505  # never used to build the shipped model
REGRESSION_PAGES = 200  # ~4000 digits + ~3000 non-digits: a 2-point digit drop is ~9 crops
# Sources whose change changes the regression crops; their hash keys the cache.
_GENERATOR_SOURCES = ("synth", "segment.py", "segment", "preprocess.py", "training/data.py")


class Cancelled(TrainingError):
    """The retrain was asked to stop (SIGINT/SIGTERM)."""

    def __init__(self) -> None:
        super().__init__("retraining cancelled")


def check_stop(should_stop: Callable[[], bool]) -> None:
    """Raise :class:`Cancelled` when ``should_stop()`` says so."""
    if should_stop():
        raise Cancelled()


@dataclass(frozen=True)
class DataConfig:
    """How the training set is mixed (see :func:`training_set`).

    ``holdout_frac``: share of the corrections kept out of training for the gate (by a hash
    of each crop: see ``stable_holdout``).
    ``min_replay`` / ``replay_ratio``: the replay budget is the larger of ``min_replay`` and
    ``replay_ratio`` x the training corrections.
    ``correction_share``: corrections are repeated (at most ``max_repeat`` times) until they weigh
    about this share against the replay budget.
    ``min_class_fraction``: every class keeps at least this fraction of its natural replay.
    """

    holdout_frac: float = 0.2
    min_replay: int = 4000
    replay_ratio: float = 2.0
    correction_share: float = 0.3
    max_repeat: int = 20
    min_class_fraction: float = 1.0
    seed: int = 0


@dataclass(frozen=True)
class Corrections:
    """The person's reviewed boxes as model inputs. ``pages`` counts distinct pages."""

    X: np.ndarray  # (N, 1, 28, 28) float32
    y: np.ndarray  # (N,) int64 class indices
    pages: int
    skipped: int = 0  # deleted boxes left out as fragments of kept digits (see teachable)
    # Each page reviewed in the app (not imported) with its digits as annotations: what the
    # context stage is fitted to (digitpad.retrain.stage).
    truth: tuple[SynthPage, ...] = ()


def load_corrections(
    samples: Iterable[object],
    *,
    progress: ProgressSink = null_sink,
    should_stop: Callable[[], bool] = lambda: False,
) -> Corrections:
    """Crop every training sample of the store, one segmentation per page.

    ``samples`` are ``TrainingSample``s (``page_hash``, ``image``, ``box``, ``label``).

    Raises:
        Cancelled: ``should_stop()`` became true.
    """
    from digitpad.training.data import crops_for_boxes

    pages: dict[str, tuple[np.ndarray, list]] = {}
    for s in samples:
        check_stop(should_stop)
        entry = pages.setdefault(s.page_hash, (s.image, []))
        entry[1].append(s)
    xs, ys, truth = [], [], []
    skipped = 0
    for i, (image, items) in enumerate(pages.values()):
        check_stop(should_stop)
        keep = teachable(items)
        skipped += len(items) - len(keep)
        if keep:
            xs.append(crops_for_boxes(image, [s.box for s in keep]))
            ys.extend(CLASSES.index(s.label) for s in keep)
            if items[0].source != "imported":
                truth.append(_reviewed_page(image, keep))
        progress(ProgressEvent("loading", step=i + 1, total=len(pages)))
    if not xs:
        return Corrections(np.zeros((0, 1, 28, 28), np.float32), np.zeros(0, np.int64), 0, skipped)
    X = np.concatenate(xs).astype(np.float32)
    return Corrections(X, np.asarray(ys, np.int64), len(pages), skipped, tuple(truth))


def _reviewed_page(image: np.ndarray, items: Sequence[Any]) -> SynthPage:
    """A page the person reviewed in the app, its digits as the truth. Imported pages are
    left out by the caller: a dataset may box only some digits, or a whole image as one."""
    digits = tuple(Annotation(s.box, s.label) for s in items if s.label != NOT_DIGIT)
    return SynthPage(image, digits, 0, {"source": "reviewed"})


def teachable(items: Sequence[Any]) -> list[Any]:
    """The samples of one page worth learning from.

    A deleted box ("not a digit") that is a piece of a digit the person kept (at least half of
    it lies inside that digit's box, or IoU >= 0.35) is left out: its crop is a fragment of a
    real digit (often a plain stroke that looks exactly like a 1), and teaching it as "not a
    digit" would cost every real 1. The engine's training labels follow the same rule
    (``digitpad.training.data.label_boxes``). A deleted box holding two whole digits stays a
    negative: that is what splitting fixes.
    """
    digits = [s.box for s in items if s.label != NOT_DIGIT]
    out = []
    for s in items:
        if s.label == NOT_DIGIT and _fragment_of_digit(s.box, digits):
            continue
        out.append(s)
    return out


def _fragment_of_digit(box: Box, digits: Sequence[Box]) -> bool:
    if sum(box.overlap(d) >= 0.6 * d.area for d in digits) >= 2:
        return False  # it holds two whole digits
    return any(box.overlap(d) >= 0.5 * box.area or box.iou(d) >= 0.35 for d in digits)


def stable_holdout(
    X: np.ndarray, y: np.ndarray, frac: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held_out) of the corrections ``X`` (crops, in the order they were made)
    with labels ``y``: a crop is held out when a hash of its pixels, salted with ``seed``,
    falls in the lowest ``frac`` of the range, except a label's first correction (and any
    crop identical to it), which always trains, so a first correction of a new kind is learnt
    from. Nothing here depends on the corrections that came later, so the split is the same
    in every retrain: a held-out correction was never trained on by an earlier model either
    (a split drawn anew each time held out what the active model had learnt), and the same
    crop twice (a digit on a page saved again after more was written) is on one side.
    """
    salt = int(seed).to_bytes(8, "little", signed=True)
    keys = [
        int.from_bytes(
            hashlib.blake2b(
                np.ascontiguousarray(x, dtype=np.float32).tobytes(), digest_size=8, key=salt
            ).digest(),
            "little",
        )
        for x in X
    ]
    firsts = {keys[int(np.flatnonzero(y == label)[0])] for label in np.unique(y)}
    limit = int(frac * 2**64)
    held = np.array([k < limit and k not in firsts for k in keys], dtype=bool)
    return np.flatnonzero(~held), np.flatnonzero(held)


def replay_pool(
    per_digit: int,
    seed: int,
    *,
    progress: ProgressSink = null_sink,
    should_stop: Callable[[], bool] = lambda: False,
    chunk_pages: int = 8,
    max_pages: int = 400,
) -> tuple[np.ndarray, np.ndarray]:
    """Freshly generated synthetic crops, with at least ``per_digit`` crops of every digit.

    Pages are generated in chunks until every digit has its share (or ``max_pages`` is reached);
    the not-a-digit crops the segmenter produced on the same pages come along, in the proportion
    inference meets them.

    Raises:
        Cancelled: ``should_stop()`` became true.
        TrainingError: the generator produced no crops at all.
    """
    from digitpad.training.data import synthetic_crops

    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    counts = np.zeros(N_CLASSES, np.int64)
    pages = 0
    while pages < max_pages and counts[:NOT_DIGIT_ID].min() < per_digit:
        check_stop(should_stop)
        X, y = synthetic_crops(chunk_pages, seed * 1000 + pages)
        xs.append(np.asarray(X, np.float32))
        ys.append(np.asarray(y, np.int64))
        counts += np.bincount(ys[-1], minlength=N_CLASSES)[:N_CLASSES]
        pages += chunk_pages
        done = int(np.minimum(counts[:NOT_DIGIT_ID], per_digit).sum())
        progress(ProgressEvent("replay", step=done, total=per_digit * NOT_DIGIT_ID))
    if not xs or counts.sum() == 0:
        raise TrainingError("the synthetic generator produced no training crops")
    return np.concatenate(xs), np.concatenate(ys)


def training_set(
    X_corr: np.ndarray,
    y_corr: np.ndarray,
    X_pool: np.ndarray,
    y_pool: np.ndarray,
    config: DataConfig,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """The shuffled training set (corrections + synthetic replay) and how it was mixed.

    - Corrections are repeated ``r`` times (``1 <= r <= max_repeat``) so that they weigh about
      ``correction_share`` against the replay: a few corrections still steer the model.
    - The replay is class-balanced against them: it tops every class up so that, corrections
      included, the set has about the class proportions of the pool (what the segmenter produces on
      synthetic pages, the data the model learnt from). A person who corrects mostly 7s then does
      not teach the model that everything is a 7, and "not a digit" keeps its weight, or the
      model would start reading specks and letters as digits. Every class keeps at least
      ``min_class_fraction`` of its natural replay, so none is forgotten.
    """
    rng = np.random.default_rng(config.seed)
    n_c = len(y_corr)
    budget = replay_size(n_c, config)
    share = min(max(config.correction_share, 0.0), 0.95)
    r = 1
    if n_c:
        r = max(1, min(config.max_repeat, round(share / (1.0 - share) * budget / n_c)))
    p = np.bincount(y_pool, minlength=N_CLASSES)[:N_CLASSES] / max(1, len(y_pool))
    corr = np.bincount(y_corr, minlength=N_CLASSES)[:N_CLASSES] * r
    total = budget + corr.sum()
    want = np.maximum(p * total - corr, config.min_class_fraction * p * budget)
    pick = []
    for k in range(N_CLASSES):
        idx = np.flatnonzero(y_pool == k)
        n = round(want[k])
        if idx.size and n:
            pick.append(rng.choice(idx, n, replace=idx.size < n))
    replay = np.concatenate(pick) if pick else np.zeros(0, np.int64)
    X = np.concatenate([np.repeat(X_corr, r, axis=0), X_pool[replay]]).astype(np.float32)
    y = np.concatenate([np.repeat(y_corr, r), y_pool[replay]]).astype(np.int64)
    perm = rng.permutation(len(y))
    info = {
        "repeat": r,
        "replay": len(replay),
        "replay_not_digit": int(np.sum(y_pool[replay] == NOT_DIGIT_ID)),
    }
    return X[perm], y[perm], info


def replay_size(n_train_corrections: int, config: DataConfig) -> int:
    """The replay budget (all classes) that corrections are weighed against."""
    return max(config.min_replay, int(config.replay_ratio * n_train_corrections))


def generator_fingerprint() -> str:
    """A short hash of the code that makes synthetic crops (generator, segmenter, preprocess,
    crop labelling): when any of it changes, cached regression crops are rebuilt."""
    h = hashlib.sha256()
    for name in _GENERATOR_SOURCES:
        path = PACKAGE_DIR / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
        for f in files:
            h.update(str(f.relative_to(PACKAGE_DIR)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def regression_set(
    cache_dir: Path,
    *,
    seed: int = REGRESSION_SEED,
    pages: int = REGRESSION_PAGES,
    progress: ProgressSink = null_sink,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[np.ndarray, np.ndarray]:
    """The fixed synthetic regression set (same seed, same crops every time).

    Generated once and cached in ``cache_dir`` under a name keyed by seed, page count and the
    generator's fingerprint; the cache is written atomically, and a damaged cache is rebuilt.
    The cache is only a saving: when it cannot be written (a full disk), a "warning" event says
    so and the set is used all the same. Caches of an older generator, and temporary files of
    a write that was killed, are removed.

    Raises:
        Cancelled: ``should_stop()`` became true while generating.
    """
    path = cache_dir / f"regression-s{seed}-p{pages}-{generator_fingerprint()}.npz"
    cached = _read_cache(path)
    if cached is not None:
        return cached
    from digitpad.training.data import synthetic_crops

    xs, ys = [], []
    step = 10
    for start in range(0, pages, step):
        check_stop(should_stop)
        n = min(step, pages - start)
        X, y = synthetic_crops(n, seed * 1000 + start)
        xs.append(np.asarray(X, np.float32))
        ys.append(np.asarray(y, np.int64))
        progress(ProgressEvent("regression", step=start + n, total=pages))
    X_all, y_all = np.concatenate(xs), np.concatenate(ys)
    buf = io.BytesIO()
    np.savez_compressed(buf, X=X_all, y=y_all)
    try:
        _sweep_cache(path)
        atomic_write_bytes(path, buf.getvalue(), make_parents=True)
    except OSError as exc:
        why = exc.strerror or exc
        progress(ProgressEvent("warning", message=f"cannot cache the regression set ({why})"))
    return X_all, y_all


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The regression set cached at ``path``; None when it is missing or damaged."""
    try:
        with np.load(path, allow_pickle=False) as data:
            X, y = data["X"].astype(np.float32), data["y"].astype(np.int64)
    except Exception:  # numpy raises OSError, BadZipFile, EOFError, zlib.error, and more
        return None
    return (X, y) if X.ndim == 4 and len(X) == len(y) > 0 else None


def _sweep_cache(path: Path, keep_others: int = 2) -> None:
    """Remove all but the ``keep_others`` newest caches of ``path``'s seed and page count made
    by other generators (another digitpad sharing the home may still read one; the rest nothing
    reads again), and temporary files an hour old (a write killed half way).

    Raises:
        OSError: the folder cannot be listed.
    """
    if not path.parent.is_dir():
        return
    stem = path.name.rsplit("-", 1)[0]  # regression-s<seed>-p<pages>
    old = time.time() - 3600
    others: list[tuple[float, Path]] = []
    for other in path.parent.iterdir():
        with contextlib.suppress(OSError):
            if other.name.startswith(f"{stem}-") and other != path:
                others.append((other.stat().st_mtime, other))
            elif _killed_write(other) and other.stat().st_mtime < old:
                other.unlink()
    for _, stale in sorted(others, reverse=True)[keep_others:]:
        with contextlib.suppress(OSError):
            stale.unlink()


def _killed_write(path: Path) -> bool:
    return path.name.startswith(".regression-") and path.name.endswith(".tmp")
