"""Realism of the synthetic digits: train a small fixed CNN on synthetic glyphs only, test on
real handwriting.

The training data is ``digitpad.synth.glyphs.glyph_samples`` (digits only) and nothing else;
the two real sets in ``../shared/data`` (hwd1000: mouse/pen drawn, MNIST-like; optdigits32:
pen on paper, thick, stretched) are only ever evaluated on. Every crop, synthetic or real, goes
through ``digitpad.preprocess.preprocess_crop``, the one path training and inference share.
If accuracy is short, the generator is what needs to improve, not this file.

    .venv/bin/python -m benchmarks.synth_realism [--samples 40000] [--epochs 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "synth_realism.json"
TARGETS = {"hwd1000": 0.97, "optdigits32": 0.92}


def load_real(data_dir: Path = SHARED_DATA) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The real validation sets as preprocessed (N, 1, 28, 28) inputs and int labels.

    Raises FileNotFoundError with a clear message when the shared data is absent.
    """
    from digitpad.preprocess import preprocess_crop

    out = {}
    for name, pad in (("hwd1000", 0), ("optdigits32", 4)):
        path = data_dir / f"{name}.npz"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: the realism benchmark needs the shared validation data "
                f"(hwd1000.npz, optdigits32.npz) in {data_dir}"
            )
        with np.load(path, allow_pickle=False) as d:
            images, labels = d["images"], d["labels"].astype(np.int64)
        # Both are white ink on black: the pixel value already is ink. optdigits digits touch
        # the border, so pad them before the tight-box crop (its README says so).
        ink = np.pad(images, ((0, 0), (pad, pad), (pad, pad))) if pad else images
        x = np.stack([preprocess_crop(im) for im in ink])[:, None]
        out[name] = (x.astype(np.float32), labels)
    return out


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic digit crops (no non-digits), preprocessed, and their labels."""
    from digitpad.preprocess import preprocess_crop
    from digitpad.synth.glyphs import glyph_samples

    crops, labels = glyph_samples(n, seed, negatives=0.0)
    x = np.stack([preprocess_crop(c) for c in crops])[:, None]
    return x.astype(np.float32), labels


def build_cnn():
    """The fixed benchmark network (never tuned to the real sets): 3 conv blocks, ~0.43M
    parameters, ~2.3M multiply-adds per crop, so a few minutes on 2 cores trains it."""
    from torch import nn

    def block(cin: int, cout: int) -> list:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(1, 16), nn.MaxPool2d(2),
        *block(16, 32), nn.MaxPool2d(2),
        *block(32, 64),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        nn.Dropout(0.3), nn.Linear(128, 10),
    )  # fmt: skip


def train(x: np.ndarray, y: np.ndarray, *, epochs: int, seed: int, batch: int = 128):
    """Train ``build_cnn`` with Adam and a one-cycle schedule; returns the model (eval mode)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = build_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i : i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"  epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}", flush=True)
    return model.eval()


def evaluate(model, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Accuracy and the 10x10 confusion matrix (rows: truth, columns: prediction)."""
    import torch

    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(dim=1).numpy()
    conf = np.zeros((10, 10), np.int64)
    np.add.at(conf, (y, pred), 1)
    return float((pred == y).mean()), conf


def _top_confusions(conf: np.ndarray, k: int = 6) -> list[str]:
    off = conf.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:k]
    pairs = zip(*np.unravel_index(order, off.shape), strict=True)
    return [f"{t}->{p}: {off[t, p]}" for t, p in pairs if off[t, p] > 0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="synth_realism", description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=40000, help="synthetic training crops")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    try:
        real = load_real()
    except FileNotFoundError as exc:
        print(f"synth_realism: {exc}", file=sys.stderr)
        return 1
    import torch

    torch.set_num_threads(args.threads)
    t0 = time.monotonic()
    x, y = synthetic(args.samples, args.seed)
    t_gen = time.monotonic() - t0
    print(f"generated {len(x)} synthetic crops in {t_gen:.1f}s", flush=True)
    model = train(x, y, epochs=args.epochs, seed=args.seed)
    t_train = time.monotonic() - t0 - t_gen
    result: dict[str, object] = {
        "samples": args.samples, "epochs": args.epochs, "threads": args.threads,
        "seed": args.seed, "generate_s": round(t_gen, 1), "train_s": round(t_train, 1),
    }  # fmt: skip
    for name, (xr, yr) in real.items():
        acc, conf = evaluate(model, xr, yr)
        tops = _top_confusions(conf)
        print(f"{name}: accuracy {acc:.2%} (target {TARGETS[name]:.0%}); top confusions "
              f"{', '.join(tops)}")  # fmt: skip
        result[name] = {"accuracy": round(acc, 4), "target": TARGETS[name],
                        "confusion": conf.tolist(), "top_confusions": tops}  # fmt: skip
    result["total_s"] = round(time.monotonic() - t0, 1)
    print(f"total {result['total_s']}s (generate {t_gen:.0f}s, train {t_train:.0f}s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
