"""One retrain, start to finish: corrections -> training set -> fine-tune -> evaluate -> gate ->
register -> promote. Reports progress as events and returns a :class:`RetrainResult`; it never
prints.

Safety: the new model is exported to hidden staging files in the models folder and only renamed
into place by the registry once it is complete; the active model changes only through the
registry's single atomic replace, as the very last step. A cancel (``should_stop``) at any point
before that leaves the models folder as it was.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.errors import ActiveModelChanged, DigitpadError, ModelError, TrainingError
from digitpad.home import Home
from digitpad.progress import ProgressEvent, ProgressSink, null_sink
from digitpad.registry import ModelEntry, ModelRegistry, version_name
from digitpad.retrain import gate
from digitpad.retrain.data import (
    REGRESSION_PAGES,
    REGRESSION_SEED,
    Cancelled,
    Corrections,
    DataConfig,
    check_stop,
    load_corrections,
    regression_set,
    replay_pool,
    replay_size,
    stable_holdout,
    training_set,
)
from digitpad.retrain.stage import StageConfig, StageFit

RETRAIN_LOCK = ".retrain.lock"
STAGING_PREFIX = ".staging-"
# Module defaults (read when options are built), so tests and benchmarks can shrink them.
DEFAULT_DATA = DataConfig()
DEFAULT_REGRESSION_PAGES = REGRESSION_PAGES
DEFAULT_STAGE: StageConfig | None = StageConfig()
NO_CORRECTIONS = "no corrections yet: review some pages in the app and save them, then retrain"


@dataclass(frozen=True)
class RetrainOptions:
    """What ``digitpad retrain`` was asked to do. ``None`` means the default."""

    epochs: int = 5
    max_seconds: float | None = 45.0  # the training loop's own cap; data and export come on top
    from_scratch: bool = False
    force: bool = False
    lr: float | None = None  # default: 1e-3 fine-tuning, 3e-3 from scratch
    threads: int | None = None  # default: every core
    data: DataConfig = field(default_factory=lambda: DEFAULT_DATA)
    regression_seed: int = REGRESSION_SEED
    regression_pages: int = field(default_factory=lambda: DEFAULT_REGRESSION_PAGES)
    rules: gate.GateRules = field(default_factory=gate.GateRules)
    # Weights of the fine-tuned model in the candidate, tried in order until the gate passes;
    # the rest is the active model's (see blend_weights). (1.0,) = plain fine-tuning. Ignored
    # when training from scratch.
    blend: tuple[float, ...] = (1.0, 0.7, 0.5, 0.3)
    # How the active model's context stage is fitted to the new classifier and the person's
    # pages (see digitpad.retrain.stage); None keeps it as it is.
    stage: StageConfig | None = field(default_factory=lambda: DEFAULT_STAGE)


@dataclass(frozen=True)
class RetrainResult:
    """How a retrain ended: the contract of the last ``--progress json`` line.

    ``phase`` is "done" or "failed"; ``reason`` one of "promoted", "forced", "not_promoted",
    "no_corrections", "cancelled", "interrupted" (a second Ctrl+C: stopped at once, maybe
    after the promotion), "error"; ``version`` the new model ("v3") or None.
    """

    phase: str
    reason: str
    version: str | None
    promoted: bool
    message: str
    active: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_event(self) -> ProgressEvent:
        return ProgressEvent(
            self.phase,
            message=self.message,
            extra={
                "reason": self.reason,
                "version": self.version,
                "promoted": self.promoted,
                "active": self.active,
                "stopped_at_time_limit": bool(self.metrics.get("stopped_at_time_limit")),
            },
        )


@contextlib.contextmanager
def retrain_lock(models_dir: Path) -> Iterator[None]:
    """Only one retrain per home at a time.

    Raises:
        TrainingError: another retrain holds the lock.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / RETRAIN_LOCK, "a+b") as fh:
        try:
            import fcntl

            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TrainingError("another retrain is already running for this home") from None
        except ImportError:
            pass  # no advisory locks on this platform
        yield


def _clear_staging(models_dir: Path) -> None:
    # Under the retrain lock, any staging file is the leftover of a killed retrain.
    for p in models_dir.glob(f"{STAGING_PREFIX}*"):
        p.unlink(missing_ok=True)
    # a model file's temp name is "." + its name + random + ".tmp" (export._atomic_write): so
    # also for a staging file, killed before its rename
    for pattern in (".digitpad-v*.tmp", f".{STAGING_PREFIX}*.tmp"):
        for p in models_dir.glob(pattern):
            p.unlink(missing_ok=True)


def _read_corrections(
    home: Home, progress: ProgressSink, should_stop: Callable[[], bool]
) -> Corrections:
    if not home.store_path.exists():  # do not create an empty store just to find it empty
        return load_corrections([])
    from digitpad.store import CorrectionStore

    def unreadable(line: str) -> None:  # the rest of the person's work still trains
        progress(ProgressEvent("warning", message=line))

    with CorrectionStore.open(home) as store:
        samples = store.training_samples(on_unreadable=unreadable)
        return load_corrections(samples, progress=progress, should_stop=should_stop)


def _predict(model_path: Path, X: np.ndarray) -> np.ndarray:
    from digitpad.classifier import Classifier

    return Classifier.load(model_path).predict(X).argmax(axis=1)


def _scores(model_path: Path, Xh, yh, Xr, yr) -> gate.Scores:
    return gate.score(yh, _predict(model_path, Xh), yr, _predict(model_path, Xr))


def _initial_checkpoint(
    active: ModelEntry, from_scratch: bool, progress: ProgressSink
) -> dict | None:
    if from_scratch:
        # a context stage is trained on pages read through one classifier: a new classifier
        # from scratch has none, and the gate (crops only) cannot see what that costs
        progress(
            ProgressEvent(
                "prepare", message="training from scratch: the new model has no context stage"
            )
        )
        return None
    from digitpad.training.export import load_checkpoint

    if active.checkpoint_path is None:
        progress(
            ProgressEvent(
                "prepare",
                message=f"{active.name} has no checkpoint; training from scratch "
                "(the new model has no context stage)",
            )
        )
        return None
    try:
        return load_checkpoint(active.checkpoint_path)
    except ModelError as exc:  # damaged on disk: say what the person can do about it
        raise ModelError(
            f"{exc}; retrain with --from-scratch, or make another version active "
            "(`digitpad models use`)"
        ) from None


def retrain(
    home: Home,
    options: RetrainOptions | None = None,
    *,
    progress: ProgressSink = null_sink,
    should_stop: Callable[[], bool] = lambda: False,
) -> RetrainResult:
    """Retrain on the corrections of ``home`` and promote the result if the gate allows.

    Never raises for the expected endings (no corrections, cancelled, not promoted): they are
    results. Raises:
        TrainingError: another retrain is running for this home.
        DigitpadError: the store or the active model cannot be read.
    """
    options = options or RetrainOptions()
    registry = ModelRegistry(home.models_dir)
    with retrain_lock(home.models_dir):
        _clear_staging(home.models_dir)
        # the model to improve, and the version recorded active, read at once: a new model
        # is promoted only over it (a `models use` meanwhile is the person's choice)
        active, over = registry.active_and_recorded()
        try:
            return _retrain_locked(home, registry, (active, over), options, progress, should_stop)
        except Cancelled:
            return RetrainResult(
                "failed",
                "cancelled",
                None,
                False,
                f"retraining cancelled; {active.name} stays active",
                active=active.name,
            )
        finally:
            _clear_staging(home.models_dir)


def _retrain_locked(
    home: Home,
    registry: ModelRegistry,
    start: tuple[ModelEntry, int],
    options: RetrainOptions,
    progress: ProgressSink,
    should_stop: Callable[[], bool],
) -> RetrainResult:
    active, over = start  # the model to improve, and the registry's active version then
    t0 = time.monotonic()
    corr = _read_corrections(home, progress, should_stop)
    if len(corr.y) == 0:
        return RetrainResult(
            "failed", "no_corrections", None, False, NO_CORRECTIONS, active=active.name
        )
    version = registry.next_version()
    name = version_name(version)
    train_idx, held_idx = stable_holdout(
        corr.X, corr.y, options.data.holdout_frac, options.data.seed
    )
    Xh, yh = corr.X[held_idx], corr.y[held_idx]
    Xr, yr = regression_set(
        home.models_dir / "cache",
        seed=options.regression_seed,
        pages=options.regression_pages,
        progress=progress,
        should_stop=should_stop,
    )
    # Enough pages that every digit has its natural share of the replay budget.
    per_digit = -(-replay_size(len(train_idx), options.data) // 20)
    # A fresh replay for every version: the model sees new synthetic data each time.
    Xs, ys = replay_pool(
        per_digit, seed=10_000 + version, progress=progress, should_stop=should_stop
    )
    X, y, mixed = training_set(corr.X[train_idx], corr.y[train_idx], Xs, ys, options.data)
    check_stop(should_stop)
    init = _initial_checkpoint(active, options.from_scratch, progress)
    tuned = _train(X, y, init, options, progress, should_stop)
    check_stop(should_stop)

    staged = home.models_dir / f"{STAGING_PREFIX}{name}-{os.getpid()}.onnx"
    staged_ckpt = staged.with_suffix(".pt")
    counts = {
        "corrections": len(corr.y),
        "train_corrections": len(train_idx),
        "heldout": len(held_idx),
        "pages": corr.pages,
        "fragments_skipped": corr.skipped,
        **mixed,
        "regression": len(yr),
        "from_scratch": int(init is None),
    }
    old = _scores(active.path, Xh, yh, Xr, yr)
    # Back off towards the active model until the gate is satisfied (see blend_weights): the
    # most adapted blend that is no worse wins. Training happened once; a try costs an export
    # and two evaluations. --force takes the first blend as it is.
    alphas = [1.0] if init is None else list(options.blend[:1] if options.force else options.blend)
    for n, alpha in enumerate(alphas, start=1):
        check_stop(should_stop)
        ckpt = blend_weights(init, tuned, alpha) if init is not None else tuned
        _export(ckpt, staged, staged_ckpt, name, active, counts)
        new = _scores(staged, Xh, yh, Xr, yr)
        decision = gate.decide(
            new,
            old,
            version=name,
            active_version=active.name,
            force=options.force,
            rules=options.rules,
        )
        progress(
            ProgressEvent(
                "evaluating",
                step=n,
                total=len(alphas),
                val_acc=new.heldout_acc,
                message=f"{name} blended {alpha:.0%} with {active.name}: {decision.message}",
            )
        )
        if decision.promote:
            break
    # Only a promoted classifier gets its stage fitted: the fit reads some 300 pages, and the
    # gate (crops only) has already judged the classifier the stage will sit on.
    stage_fit = None
    if decision.promote and options.stage is not None and "context" in ckpt:
        stage_fit = _fit_stage(ckpt, corr, options.stage, version, progress, should_stop)
        if stage_fit.adapted:
            ckpt = stage_fit.checkpoint
            _export(ckpt, staged, staged_ckpt, name, active, counts)
    check_stop(should_stop)  # last point where a cancel is honoured: nothing is registered yet

    # A loop cut by max_seconds trained fewer steps than asked (a busy machine): say so, or a
    # weaker fine-tune, and a benchmark that reads differently, would go unexplained.
    cut = tuned["metrics"].get("stopped") == "time"
    message = decision.message
    if cut:
        done, total = tuned["metrics"]["steps"], tuned["metrics"]["total_steps"]
        message += (
            f" (training stopped at its {options.max_seconds:g} s limit"
            f" after {done} of {total} steps)"
        )
    if stage_fit is not None:
        message += f"; {stage_fit.describe()}"
    metrics = {
        **new.as_metrics(),
        "train_seconds": ckpt["metrics"].get("seconds"),
        "epochs": ckpt.get("epoch"),
        "stopped_at_time_limit": cut,
        "seconds": round(time.monotonic() - t0, 1),
        "from_scratch": init is None,
        "blend": ckpt["metrics"].get("blend"),
        "blends_tried": alphas[:n],
        "compared_with": active.name,
        "compared_with_metrics": old.as_metrics(),
        "stage": stage_fit.metrics if stage_fit is not None else None,
    }
    registry.add_candidate(
        version,
        staged,
        staged_ckpt,
        parent=active.version,
        metrics=metrics,
        data_counts=counts,
        message=message,
    )
    with contextlib.suppress(DigitpadError, OSError):  # metrics of the old model are a nicety
        registry.update(
            active.version,
            metrics={"regression_acc": old.regression_acc, "regression_n": old.regression_n},
        )
    promoted, now_active = decision.promote, name if decision.promote else active.name
    if promoted:
        try:
            registry.promote(version, over=over)
        except ActiveModelChanged as exc:  # `models use` while this ran: the person's choice
            promoted, message = False, f"{message}; not promoted: {exc}"
            now_active = version_name(registry.recorded_active())
    reason = ("forced" if decision.forced else "promoted") if promoted else "not_promoted"
    return RetrainResult(
        "done", reason, name, promoted, message, active=now_active, metrics=metrics
    )


def _train(X, y, init, options: RetrainOptions, progress, should_stop) -> dict:
    from digitpad.training.train import TrainConfig, train

    lr = options.lr if options.lr is not None else (3e-3 if init is None else 1e-3)
    config = TrainConfig(
        epochs=options.epochs,
        lr=lr,
        seed=options.data.seed,
        max_seconds=options.max_seconds,
        threads=options.threads or max(1, os.cpu_count() or 1),
    )
    # No validation set for train(): picking the "best" epoch on a few dozen held-out
    # corrections picks noise (often an early, high-learning-rate epoch that has half forgotten
    # a digit) and would bias the gate, which judges on the same held-out set. The last epoch
    # is kept; the held-out accuracy of each blend is reported while evaluating.
    ckpt = train(X, y, config, init=init, progress=progress, should_stop=should_stop)
    if ckpt["metrics"].get("stopped") == "cancelled":
        raise Cancelled()
    return ckpt


def _fit_stage(
    ckpt: dict,
    corr: Corrections,
    config: StageConfig,
    version: int,
    progress: ProgressSink,
    should_stop: Callable[[], bool],
) -> StageFit:
    from digitpad.retrain.stage import fit_stage

    fit = fit_stage(
        ckpt, corr.truth, config, seed=version, progress=progress, should_stop=should_stop
    )
    progress(ProgressEvent("stage", message=fit.describe()))
    return fit


def _export(
    ckpt: dict,
    staged: Path,
    staged_ckpt: Path,
    name: str,
    active: ModelEntry,
    counts: dict[str, int],
) -> None:
    from digitpad.training.export import export_onnx, save_checkpoint

    start = "trained from scratch" if counts["from_scratch"] else f"fine-tuned from {active.name}"
    data = (
        f"{start} on {counts['train_corrections']} corrections x{counts['repeat']}"
        f" + {counts['replay']} synthetic replay crops"
    )
    fit = ckpt.get("context", {}).get("metrics", {}).get("fitted")
    if fit:
        data += f"; context stage fitted to {fit['pages']} reviewed pages ({fit['blend']:.0%})"
    export_onnx(ckpt, staged, version=name, metadata={"parent": active.name, "data": data})
    save_checkpoint(ckpt, staged_ckpt)


def blend_weights(before: dict, tuned: dict, alpha: float) -> dict:
    """``tuned``'s checkpoint with every floating-point weight moved back towards ``before``:
    ``before + alpha * (tuned - before)``.

    Averaging the weights of a fine-tuned model with those of the model it started from keeps
    most of what fine-tuning learnt while undoing most of what it forgot (weight-space
    ensembling, "WiSE-FT", Wortsman et al. 2022). Measured with benchmarks/adaptation.py: plain
    fine-tuning on 50 corrections of an unseen writer cost some synthetic digits 5-8 points,
    enough for the gate to refuse it; at alpha 0.5-0.7 the writer's gain stayed and no digit
    fell 2 points. Integer buffers (batch counters) are taken from ``tuned``.
    Works on the tensors' own arithmetic, so this module needs no torch import.
    """
    a = min(max(float(alpha), 0.0), 1.0)
    state = {}
    for key, new in tuned["state_dict"].items():
        old = before["state_dict"].get(key)
        floating = getattr(new, "is_floating_point", lambda: False)()
        state[key] = old + a * (new - old) if floating and old is not None else new
    metrics = {**tuned.get("metrics", {}), "blend": a}
    return {**tuned, "state_dict": state, "metrics": metrics}
