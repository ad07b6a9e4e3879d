"""The training loop. Reads top to bottom: seed, build, loop over epochs, validate, return a
checkpoint (a plain dict) that is enough to rebuild the model and to fine-tune it further.
A checkpoint may also hold a ``context`` entry, the context stage trained on top of the
classifier (see digitpad.training.context)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from digitpad.progress import ProgressEvent, ProgressSink, null_sink
from digitpad.training.model import ContextConfig, ContextNet, DigitNet, ModelConfig
from digitpad.types import CLASSES


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``max_seconds`` stops early (the checkpoint so far is returned)."""

    epochs: int = 12
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    seed: int = 0
    max_seconds: float | None = None
    threads: int = 1
    augment: bool = True
    model: ModelConfig = field(default_factory=ModelConfig)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d


def train(
    X: np.ndarray,
    y: np.ndarray,
    config: TrainConfig | None = None,
    *,
    init: dict | None = None,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    progress: ProgressSink = null_sink,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict:
    """Train on crops ``X`` (N, 1, 28, 28) float32 with int labels ``y`` (0..9, 10 = not_digit).

    ``init`` is a checkpoint to start from (fine-tuning; its model config wins); its context
    stage, if it has one, is carried over unchanged (it is trained on the frozen classifier,
    whose probabilities fine-tuning moves only a little; benchmarks/adaptation.py measures the
    pair end to end). With
    ``X_val``/``y_val`` the best epoch by validation accuracy is kept. Stops early when
    ``should_stop()`` turns true or ``max_seconds`` pass; the returned checkpoint then has
    ``metrics["stopped"]`` set to "cancelled" or "time", and ``steps`` / ``total_steps`` say how
    far it got (a limit passing with the last step is no stop). Returns the checkpoint: a plain
    dict with ``model_config``, ``state_dict``, ``train_config``, ``epoch`` and ``metrics``.

    Raises:
        ValueError: ``X`` and ``y`` do not match or are empty.
    """
    config = config or TrainConfig()
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"need matching non-empty X and y, got {len(X)} and {len(y)}")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)

    model_config = ModelConfig.from_dict(init["model_config"]) if init else config.model
    net = DigitNet(model_config)
    if init:
        net.load_state_dict(init["state_dict"])
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(X) / config.batch_size)
    total = steps_per_epoch * config.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=max(total, 1), pct_start=0.15
    )
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))

    started = time.monotonic()
    best_state, best_acc, best_epoch = None, -1.0, 0
    metrics: dict[str, Any] = {"n_train": len(X)}
    step, epoch, stopped = 0, 0, None
    for epoch in range(1, config.epochs + 1):
        net.train()
        order = torch.from_numpy(rng.permutation(len(X)))
        losses = []
        for k in range(steps_per_epoch):
            idx = order[k * config.batch_size : (k + 1) * config.batch_size]
            xb, yb = Xt[idx], yt[idx]
            if config.augment:
                xb = augment(xb, rng)
            loss = F.cross_entropy(net(xb), yb, label_smoothing=config.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            losses.append(float(loss.detach()))
            stopped = _stop_reason(should_stop, config, started)
            if stopped == "time" and step >= total:
                stopped = None  # the limit passed with the last step: nothing was cut
            if stopped:
                break
            if step % 20 == 0:
                progress(_event(epoch, step, total, losses, None, started))
        metrics["train_loss"] = float(np.mean(losses)) if losses else None
        val_acc = None
        if X_val is not None and y_val is not None and len(X_val):
            val_acc = accuracy(net, X_val, y_val)
            if val_acc > best_acc:
                best_acc, best_epoch = val_acc, epoch
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        progress(_event(epoch, step, total, losses, val_acc, started))
        if stopped:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
        metrics["val_acc"] = best_acc
        metrics["best_epoch"] = best_epoch
        metrics["val_per_class"] = per_class_accuracy(net, X_val, y_val)
    metrics["seconds"] = round(time.monotonic() - started, 2)
    if stopped:
        metrics["stopped"] = stopped
        metrics["steps"], metrics["total_steps"] = step, total
    checkpoint = {
        "model_config": model_config.to_dict(),
        "state_dict": {k: v.detach().clone() for k, v in net.state_dict().items()},
        "train_config": config.to_dict(),
        "epoch": epoch,
        "metrics": metrics,
    }
    if init and "context" in init:
        checkpoint["context"] = init["context"]
    return checkpoint


def _stop_reason(
    should_stop: Callable[[], bool], config: TrainConfig, started: float
) -> str | None:
    if should_stop():
        return "cancelled"
    if config.max_seconds is not None and time.monotonic() - started > config.max_seconds:
        return "time"
    return None


def _event(
    epoch: int, step: int, total: int, losses: list[float], val_acc: float | None, started: float
) -> ProgressEvent:
    elapsed = time.monotonic() - started
    eta = elapsed / step * (total - step) if step else None
    loss = float(np.mean(losses[-20:])) if losses else None
    return ProgressEvent(
        "train", step=step, total=total, epoch=epoch, loss=loss, val_acc=val_acc, eta_s=eta
    )


def augment(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Small random affine warps and stroke-width changes of a batch of preprocessed crops."""
    n = x.shape[0]
    ang = np.radians(rng.uniform(-10, 10, n))
    scale = rng.uniform(0.88, 1.12, n)
    # narrower or wider writing than the generator's: width alone changes by up to 10%
    stretch = rng.uniform(0.9, 1.1, n)
    shear = rng.uniform(-0.15, 0.15, n)
    shift = rng.uniform(-0.08, 0.08, (n, 2))
    cos, sin = np.cos(ang) / scale, np.sin(ang) / scale
    theta = np.stack(
        [
            np.stack([cos / stretch, (-sin + shear) / stretch, shift[:, 0]], 1),
            np.stack([sin, cos, shift[:, 1]], 1),
        ],
        1,
    )
    grid = F.affine_grid(
        torch.from_numpy(theta.astype(np.float32)), list(x.shape), align_corners=False
    )
    out = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    # thicker or thinner strokes: marker, felt pen and heavily normalised scans are bold
    pick = rng.uniform(size=n)
    thick = torch.from_numpy(pick < 0.2)
    bold = torch.from_numpy((pick >= 0.2) & (pick < 0.3))
    thin = torch.from_numpy(pick > 0.85)
    if thick.any():
        out[thick] = F.max_pool2d(out[thick], 3, stride=1, padding=1)
    if bold.any():
        out[bold] = F.max_pool2d(out[bold], 5, stride=1, padding=2)
    if thin.any():
        out[thin] = -F.max_pool2d(-out[thin], 3, stride=1, padding=1) * 0.5 + out[thin] * 0.5
    return out


def build_context_net(stage: dict) -> ContextNet:
    """The network of a checkpoint's ``context`` entry with its weights, in eval mode."""
    net = ContextNet(ContextConfig.from_dict(stage["config"]))
    net.load_state_dict(stage["state_dict"])
    net.eval()
    return net


def build_model(checkpoint: dict) -> DigitNet:
    """The network of ``checkpoint`` with its weights, in eval mode."""
    net = DigitNet(ModelConfig.from_dict(checkpoint["model_config"]))
    net.load_state_dict(checkpoint["state_dict"])
    net.eval()
    return net


@torch.no_grad()
def _probs(net: DigitNet, X: np.ndarray, batch: int = 1024) -> np.ndarray:
    net.eval()
    out = []
    for i in range(0, len(X), batch):
        xb = torch.from_numpy(np.ascontiguousarray(X[i : i + batch], dtype=np.float32))
        out.append(torch.softmax(net(xb), dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(CLASSES)), np.float32)


def predict_proba(checkpoint: dict, X: np.ndarray) -> np.ndarray:
    """Class probabilities (N, 11) of ``checkpoint``'s model on crops ``X`` (N, 1, 28, 28)."""
    return _probs(build_model(checkpoint), X)


def accuracy(net: DigitNet, X: np.ndarray, y: np.ndarray) -> float:
    """Share of ``X`` whose most likely class is ``y``."""
    pred = _probs(net, X).argmax(axis=1)
    return float(np.mean(pred == np.asarray(y)))


def per_class_accuracy(net: DigitNet, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy per class label (only classes present in ``y``)."""
    pred = _probs(net, X).argmax(axis=1)
    y = np.asarray(y)
    return {
        CLASSES[k]: float(np.mean(pred[y == k] == k)) for k in range(len(CLASSES)) if (y == k).any()
    }
