"""`make model`: rebuild the shipped model (models/digitpad-v1.onnx and .pt) from scratch.

Everything is seeded, so the same code gives the same training data and, on one machine, the
same weights (threaded CPU kernels would add nondeterminism; another CPU rounds otherwise, so
every build records what it ran on, see :mod:`digitpad.training.provenance`). The data is
synthetic: crops that the segmenter cuts from generated pages (see :func:`build_data`), plus
the 8x8 digits bundled with scikit-learn; then the context stage learns from pages the
classifier never saw, read through it (:mod:`digitpad.training.context`). ``../shared/data``
is never read here.

Run: ``make model`` (``--out build/model --compare models/digitpad-v1.pt``: build beside the
shipped model, then say whether it is the same, weight for weight) or ``nice -n 5
.venv/bin/python -m digitpad.training.build_shipped`` (writes over models/).
One training thread, because threaded kernels add nondeterminism. The symbol pages are part
of the recipe since 2026-12-06. Since 2026-12-07 (evening) so are the letter pages (the
generator's handwritten letters) and the ones pages (its digits, 1s most often, beside its
letters), with seven renderings of the scikit-learn digits instead of six
(``--no-letter-pages --no-ones-pages --digit-variants 6``: the recipe before; with
``--no-symbol-pages`` as well, the one before that; HISTORY, 2026-12-07). ``make model`` at
that recipe took 43.5 min (30.0 for the classifier, 13.5 for the stage) on the 2-core
machine (AMD EPYC, torch held to AVX2), shared about half the time with benchmarks, and
rebuilt the shipped weights bit for bit.
``--pages`` and ``--epochs`` make it shorter for experiments; ``--classifier CKPT`` trains only a
new context stage on that checkpoint's classifier (``--context-pages 0``: none);
``--no-symbol-pages --no-letter-pages --no-ones-pages --pages 5200 --digit-variants 12
--convs 1,2,2 --context-pages 0`` is the larger build the README compares (49-53 minutes with
the machine shared). Same code + same synthetic generator = same data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from digitpad.errors import ModelError
from digitpad.home import shipped_model_path
from digitpad.progress import BarSink, ProgressEvent, ProgressSink
from digitpad.types import DIGITS

if TYPE_CHECKING:
    from digitpad.training.drawn import MarkFn

SEED = 20261121
VERSION = "v1"
_CHECKPOINT = f"digitpad-{VERSION}.pt"
# generated pages read to train the context stage (benchmarks/HISTORY.md: 9,000 and 36,000
# read fewer fresh pages exactly)
CONTEXT_PAGES = 18000
# renderings of each scikit-learn digit: seven keep the only real handwriting at its share of
# the data beside the letter and ones pages (six: optdigits32 read 95.1-96.7 %, HISTORY
# 2026-12-07)
DIGIT_VARIANTS = 7


# the symbol, letter and ones pages' seeds: build seed plus these, apart from every other
# source's
SYMBOL_SEED_OFFSET = 7_000_000
LETTER_SEED_OFFSET = 8_000_000
ONES_SEED_OFFSET = 9_000_000
# the ones pages draw a 1 seven times in sixteen: every other source draws it one in ten
ONES_LABELS = ("1",) * 6 + DIGITS


def build_data(
    pages: int,
    seed: int,
    progress: ProgressSink,
    *,
    digit_variants: int = DIGIT_VARIANTS,
    symbol_pages: bool = False,
    letter_pages: bool = False,
    ones_pages: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The training crops and labels, and how many came from each source.

    Sources: generated pages (60%: paper, light, rulings, touching pairs, distractors), plain
    pages of the generator's glyphs (30%: more touching pairs, sizes 12-120 px), Hershey-font
    pages (10%), and scikit-learn's bundled 8x8 digits, ``digit_variants`` seeded renderings of
    each (the only real handwriting we may train on: with more pages, more variants keep its
    share of the data). With ``symbol_pages``, a tenth as many pages again of the generator's
    glyphs beside printed symbols (``drawn.SYMBOLS``: "%", "&", "?"... which a model without
    them reads as digits), every symbol "not a digit"; :func:`build` (the shipped recipe) asks
    for them, this function's default leaves them out (HISTORY, 2026-12-06). With
    ``letter_pages``, a tenth as many pages again of the generator's glyphs beside its own
    handwritten letters (``synth_letter``), every letter "not a digit": among all the
    generator's marks each letter is rare, and a "D" was read as a 0 (HISTORY, 2026-12-07).
    With ``ones_pages``, a tenth as many pages again of the generator's glyphs, a 1 seven times in
    sixteen (``ONES_LABELS``), beside 6 of its letters each: the letter pages alone cost
    1s whose stroke a letter's stem resembles (HISTORY, 2026-12-07, afternoon). :func:`build`
    asks for both as well (the recipe since 2026-12-07, evening).
    """
    from digitpad.training.data import (
        crops_from_pages,
        glyph_pages,
        sklearn_digit_crops,
        synth_letter,
        synthetic_crops,
    )
    from digitpad.training.drawn import draw_page, draw_symbol

    n_synth, n_glyph = int(pages * 0.6), int(pages * 0.3)
    n_font = max(10, pages - n_synth - n_glyph)
    sources: list[tuple[str, Callable[[], tuple[np.ndarray, np.ndarray]]]] = [
        ("synth_pages", lambda: synthetic_crops(n_synth, seed)),
        ("glyph_pages", lambda: crops_from_pages(glyph_pages(n_glyph, seed + 1))),
        (
            "font_pages",
            lambda: crops_from_pages(
                draw_page(seed + 2 + i, distractors=4, touching_rate=0.2) for i in range(n_font)
            ),
        ),
        (
            "sklearn_digits",
            lambda: _stack(sklearn_digit_crops(seed + k) for k in range(digit_variants)),
        ),
    ]
    n_marked = max(10, pages // 10)
    if symbol_pages:
        first = seed + SYMBOL_SEED_OFFSET
        sources.append(("symbol_pages", lambda: _digits_beside(first, n_marked, 8, draw_symbol)))
    if letter_pages:
        letters_from = seed + LETTER_SEED_OFFSET
        sources.append(
            ("letter_pages", lambda: _digits_beside(letters_from, n_marked, 12, synth_letter))
        )
    if ones_pages:
        ones_from = seed + ONES_SEED_OFFSET
        sources.append(
            (
                "ones_pages",
                lambda: _digits_beside(ones_from, n_marked, 6, synth_letter, ONES_LABELS),
            )
        )
    xs, ys, counts = [], [], {}
    for k, (name, make) in enumerate(sources):
        progress(ProgressEvent("data", step=k, total=len(sources), message=name))
        X, y = make()
        xs.append(X)
        ys.append(y)
        counts[name] = len(y)
    progress(ProgressEvent("data", step=len(sources), total=len(sources)))
    return np.concatenate(xs), np.concatenate(ys), counts


def _digits_beside(
    first: int, n_pages: int, marks: int, mark: MarkFn, labels: Sequence[str] = DIGITS
) -> tuple[np.ndarray, np.ndarray]:
    """Crops of ``n_pages`` pages (seeds from ``first``) of the generator's digit glyphs, their
    labels drawn from ``labels`` (default: the ten digits alike), beside ``marks`` marks each
    drawn by ``mark``, every mark "not a digit"."""
    from digitpad.training.data import crops_from_pages, synth_glyph
    from digitpad.training.drawn import draw_page

    return crops_from_pages(
        draw_page(
            first + i,
            distractors=marks,
            touching_rate=0.1,
            glyph=synth_glyph,
            mark=mark,
            labels=labels,
        )
        for i in range(n_pages)
    )


def _stack(parts: Iterable[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*parts, strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def validation_data(pages: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Crops of held-out generated pages and glyph pages (seeds never used for training)."""
    from digitpad.training.data import crops_from_pages, glyph_pages, synthetic_crops

    X1, y1 = synthetic_crops(pages, seed + 1000)
    X2, y2 = crops_from_pages(glyph_pages(max(5, pages // 2), seed + 1001))
    return np.concatenate([X1, X2]), np.concatenate([y1, y2])


def build(
    out_dir: Path,
    *,
    pages: int = 2600,
    epochs: int = 12,
    threads: int = 1,
    seed: int = SEED,
    digit_variants: int = DIGIT_VARIANTS,
    convs: tuple[int, int, int] | None = None,
    context_pages: int = CONTEXT_PAGES,
    classifier: Path | None = None,
    symbol_pages: bool = True,
    letter_pages: bool = True,
    ones_pages: bool = True,
    progress: ProgressSink | None = None,
) -> dict:
    """Build data, train, validate on held-out generated pages, train the context stage on
    ``context_pages`` more (0: none), export. Returns a summary.

    ``convs`` is the network's convolutions per stage (see
    :class:`~digitpad.training.model.ModelConfig`; None: its default). ``classifier`` is a
    checkpoint whose classifier is used instead of building data and training one (its
    context stage, if any, is replaced). ``symbol_pages``, ``letter_pages`` and ``ones_pages`` as
    for :func:`build_data`.

    Raises:
        ModelError: ``classifier`` is not a readable checkpoint.
    """
    from digitpad.training.context import ContextTrainConfig, context_stage
    from digitpad.training.export import export_onnx, load_checkpoint, save_checkpoint
    from digitpad.training.provenance import build_environment

    progress = progress or BarSink()
    t0 = time.monotonic()
    if classifier is None:
        ckpt, counts, n_train = _train_classifier(
            pages,
            epochs,
            threads,
            seed,
            digit_variants,
            convs,
            progress,
            symbol_pages=symbol_pages,
            letter_pages=letter_pages,
            ones_pages=ones_pages,
        )
    else:
        ckpt, counts, n_train = load_checkpoint(classifier), {}, 0
        ckpt.pop("context", None)
    t_classifier = time.monotonic() - t0
    if context_pages:
        stage_config = ContextTrainConfig(pages=context_pages, seed=seed)
        ckpt["context"] = context_stage(ckpt, stage_config, seed=seed, progress=progress)
    # what this build's rounding depends on: another CPU builds other weights from the same data
    ckpt["built_with"] = build_environment()
    m = ckpt["metrics"]
    metadata = {
        "data": (
            "synthetic only: segmenter crops of generated pages "
            + ", ".join(f"{k}={v}" for k, v in counts.items())
            if counts
            else f"the classifier of {classifier}"
        )
        + f"; seed {seed}",
        "validation": json.dumps(
            {"held_out_pages_acc": round(m.get("val_acc", 0.0), 4), "n_val": m.get("n_val")}
        ),
        "per_class": json.dumps({k: round(v, 4) for k, v in m.get("val_per_class", {}).items()}),
        "trained_on": f"{n_train} crops, {epochs} epochs" if n_train else str(classifier),
        "built_with": json.dumps(ckpt["built_with"]),
    }
    if "context" in ckpt:
        metadata["context_stage"] = json.dumps(ckpt["context"]["metrics"])
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"digitpad-{VERSION}.onnx"
    export_onnx(ckpt, onnx_path, version=VERSION, metadata=metadata)
    save_checkpoint(ckpt, out_dir / _CHECKPOINT)
    return {
        "onnx": str(onnx_path),
        "bytes": onnx_path.stat().st_size,
        "n_train": n_train,
        "sources": counts,
        "val_acc": m.get("val_acc"),
        "classifier_seconds": round(t_classifier, 1),
        "train_seconds": m.get("seconds"),
        "context": ckpt["context"]["metrics"] if "context" in ckpt else None,
        "total_seconds": round(time.monotonic() - t0, 1),
    }


def _train_classifier(
    pages: int,
    epochs: int,
    threads: int,
    seed: int,
    digit_variants: int,
    convs: tuple[int, int, int] | None,
    progress: ProgressSink,
    *,
    symbol_pages: bool,
    letter_pages: bool,
    ones_pages: bool,
) -> tuple[dict, dict[str, int], int]:
    """Data, then the classifier trained on it: its checkpoint, the crops per source, and how
    many crops it trained on."""
    from digitpad.training.model import ModelConfig
    from digitpad.training.train import TrainConfig, train

    X, y, counts = build_data(
        pages,
        seed,
        progress,
        digit_variants=digit_variants,
        symbol_pages=symbol_pages,
        letter_pages=letter_pages,
        ones_pages=ones_pages,
    )
    # validation: held-out seeds of the generated pages, never real data
    X_val, y_val = validation_data(max(20, pages // 20), seed)
    model = ModelConfig(convs=convs) if convs else ModelConfig()
    config = TrainConfig(epochs=epochs, seed=seed, threads=threads, model=model)
    ckpt = train(X, y, config, X_val=X_val, y_val=y_val, progress=progress)
    ckpt["metrics"]["n_val"] = len(y_val)
    return ckpt, counts, len(y)


# the optional page sources of build_data: (name, on by default, what they add)
_PAGE_OPTIONS = (
    (
        "symbol",
        True,
        "add a tenth as many pages of printed symbols as 'not a digit' (the shipped recipe; "
        "--no-symbol-pages: without them, as the models shipped before 2026-12-06)",
    ),
    (
        "letter",
        True,
        "add a tenth as many pages of the generator's handwritten letters as 'not a digit' "
        "(the shipped recipe since 2026-12-07)",
    ),
    (
        "ones",
        True,
        "add a tenth as many pages of the generator's glyphs, 1s most often, beside its letters "
        "(the shipped recipe since 2026-12-07)",
    ),
)


def _convs(text: str) -> tuple[int, int, int]:
    try:
        a, b, c = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected three counts like 1,2,2, got {text!r}"
        ) from None
    if min(a, b, c) < 1:
        raise argparse.ArgumentTypeError(f"every stage needs a convolution, got {text!r}")
    return a, b, c


def _refuse_bad_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with a one-line usage error (status 2) for a checkpoint argument that cannot be
    read, or an ``--out`` that cannot be written: before a half-hour build, not after it."""
    from digitpad.training.export import load_checkpoint

    if args.compare is not None and args.compare.resolve() == (args.out / _CHECKPOINT).resolve():
        parser.error("--compare names the checkpoint this build writes: it would be overwritten")
    for option, path in (("--classifier", args.classifier), ("--compare", args.compare)):
        if path is not None:
            try:
                load_checkpoint(path)
            except ModelError as exc:
                parser.error(f"{option}: {exc}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out: {args.out} is a file, not a folder")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"--out: cannot create {args.out} ({exc.strerror or exc})")
    if not os.access(args.out, os.W_OK):
        parser.error(f"--out: cannot write to {args.out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digitpad.training.build_shipped")
    parser.add_argument("--out", type=Path, default=shipped_model_path().parent)
    parser.add_argument("--pages", type=int, default=2600)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--digit-variants",
        type=int,
        default=DIGIT_VARIANTS,
        help="renderings of each scikit-learn digit",
    )
    parser.add_argument(
        "--convs",
        type=_convs,
        default=None,
        help="convolutions per stage, e.g. 1,2,2 (default: the network's own, 1,1,2)",
    )
    parser.add_argument(
        "--context-pages",
        type=int,
        default=CONTEXT_PAGES,
        help="generated pages read to train the context stage (0: no context stage)",
    )
    for name, default, what in _PAGE_OPTIONS:
        parser.add_argument(
            f"--{name}-pages", action=argparse.BooleanOptionalAction, default=default, help=what
        )
    parser.add_argument(
        "--classifier",
        type=Path,
        default=None,
        help="a checkpoint (.pt) whose classifier to use instead of training one",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="a checkpoint (.pt) to check the new one against, weight for weight (make model: "
        "the shipped one)",
    )
    args = parser.parse_args(argv)
    _refuse_bad_paths(parser, args)
    summary = build(
        args.out,
        pages=args.pages,
        epochs=args.epochs,
        threads=args.threads,
        seed=args.seed,
        digit_variants=args.digit_variants,
        convs=args.convs,
        context_pages=args.context_pages,
        classifier=args.classifier,
        symbol_pages=args.symbol_pages,
        letter_pages=args.letter_pages,
        ones_pages=args.ones_pages,
        progress=BarSink(force=True),
    )
    print(json.dumps(summary, indent=2))
    if args.compare is not None:
        try:
            from digitpad.training.provenance import compare_with

            _, report = compare_with(args.out / _CHECKPOINT, args.compare)
        except ModelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
