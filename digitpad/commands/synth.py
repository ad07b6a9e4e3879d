"""``digitpad synth``: write synthetic pages with exact annotations, or a glyph contact sheet."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from digitpad.errors import UsageError

HELP = "generate synthetic handwritten pages (COCO/YOLO) or a contact sheet of glyphs"
MAX_PAGES = 1_000_000
MAX_SIDE = 8192


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pages", type=int, metavar="N", help="number of pages to generate")
    parser.add_argument(
        "--out", metavar="DIR", help="a new (or empty) folder to write the dataset into"
    )
    parser.add_argument(
        "--format", choices=("coco", "yolo"), default="coco", help="annotation format (coco)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed (0); same seed, same pages"
    )
    parser.add_argument("--size", default="1024x768", metavar="WxH", help="page size (1024x768)")
    parser.add_argument(
        "--touching-rate",
        type=float,
        default=None,
        metavar="R",
        help="fraction of digits drawn touching a neighbour (0.1)",
    )
    parser.add_argument("--sheet", metavar="FILE.png", help="write a contact sheet")


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` as (W, H); UsageError unless both are integers in 32..MAX_SIDE."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise UsageError(f"--size must look like 1024x768, got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (32 <= w <= MAX_SIDE and 32 <= h <= MAX_SIDE):
        raise UsageError(f"--size sides must be between 32 and {MAX_SIDE} pixels, got {w}x{h}")
    return w, h


def _check(args: argparse.Namespace) -> tuple[int, int]:
    """The page size; UsageError for any option out of range, and for an ``--out`` that would
    overwrite what is there (``--out`` and ``--sheet`` become Paths)."""
    if args.sheet is None and args.pages is None:
        raise UsageError("give --pages N --out DIR, or --sheet FILE.png")
    for name in ("out", "sheet"):
        # Path("") is the current folder: never a silent choice
        if getattr(args, name) is not None and not getattr(args, name).strip():
            raise UsageError(f"--{name} is an empty path")
    if args.sheet is not None:
        args.sheet = Path(args.sheet)
        if args.sheet.suffix.lower() != ".png":
            raise UsageError(f"--sheet must name a .png file, got {args.sheet}")
    size = parse_size(args.size)
    if args.pages is not None:
        if not 1 <= args.pages <= MAX_PAGES:
            raise UsageError(f"--pages must be between 1 and {MAX_PAGES}, got {args.pages}")
        if args.out is None:
            raise UsageError("--pages needs --out DIR")
        args.out = Path(args.out)
        _check_new_folder(args.out)
    elif args.out is not None:
        raise UsageError("--out needs --pages N")
    if args.touching_rate is not None and not 0.0 <= args.touching_rate <= 1.0:
        raise UsageError(f"--touching-rate must be between 0 and 1, got {args.touching_rate}")
    return size


def _check_new_folder(out: Path) -> None:
    """UsageError unless ``out`` is missing or an empty folder: a dataset written over another
    would replace some of its images and drop their annotations."""
    try:
        if not out.exists():
            return
        if not out.is_dir():
            raise UsageError(f"--out {out} exists and is not a folder")
        if any(out.iterdir()):
            raise UsageError(f"--out {out} is not empty: give a new or empty folder")
    except OSError as exc:
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    size = _check(args)
    if args.sheet is not None:
        _write_sheet(args.sheet, args.seed)
    if args.pages is not None:
        _write_dataset(args, size)
    return 0


def _write_sheet(path: Path, seed: int) -> None:
    from PIL import Image

    from digitpad.synth.sheet import contact_sheet

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(contact_sheet(seed)).save(path)
    print(f"wrote contact sheet {path}")


def _write_dataset(args: argparse.Namespace, size: tuple[int, int]) -> None:
    import cv2

    from digitpad.formats import LabelledImage, write_coco, write_yolo
    from digitpad.progress import BarSink, ProgressEvent
    from digitpad.synth.pages import PageConfig, generate_pages

    extra = {} if args.touching_rate is None else {"touching_rate": args.touching_rate}
    config = PageConfig(width=size[0], height=size[1], **extra)
    images_dir = args.out / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    bar = BarSink()
    items = []
    for i, page in enumerate(generate_pages(args.pages, args.seed, config)):
        path = images_dir / f"page_{i:06d}.png"
        # Written here, one at a time, so a big run never holds every page in memory; the
        # format writers then find each image already in place and leave it alone.
        if not cv2.imwrite(str(path), page.image[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1]):
            raise OSError(f"cannot write {path}")
        items.append(LabelledImage(path, size[0], size[1], page.annotations))
        bar(ProgressEvent("synth", step=i + 1, total=args.pages))
    writer = write_coco if args.format == "coco" else write_yolo
    written = writer(items, args.out)
    n_digits = sum(sum(a.is_digit for a in it.annotations) for it in items)
    print(f"wrote {len(items)} pages ({n_digits} digits) to {args.out} ({args.format}: {written})")
