"""Whole synthetic pages with exact ground truth.

A page is paper plus numbers (rows of digits, or scattered), some digit pairs drawn touching or
overlapping, and non-digit marks around them (punctuation inside numbers, underlines, words,
printed labels, scribbles). Every object is rendered on its own as an ink crop, trimmed to its
ink, placed, and multiplied onto the paper, so each annotation box is exactly the box of that
object's ink (pixels with ink coverage >= ``BOX_INK_LEVEL``), before scan blur/JPEG.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from digitpad.synth import layout, paper
from digitpad.synth.style import FAMILIES
from digitpad.types import Annotation, Box, SynthPage

BOX_INK_LEVEL = layout.BOX_INK_LEVEL


@dataclass(frozen=True)
class PageConfig:
    """What pages look like. Sizes are pixels; rates are probabilities or expected counts.

    ``touching_rate``: the fraction of digits drawn touching or overlapping a neighbour (in
    pairs). ``distractor_rate``: roughly how many non-digit marks per digit. ``row_rate``: the
    chance that a page is laid out in rows (otherwise numbers are scattered). ``keep_masks``
    stores each object's placed ink in ``meta["masks"]`` (for checks; costs memory).
    """

    width: int = 1024
    height: int = 768
    min_digits: int = 1
    max_digits: int = 40
    touching_rate: float = 0.1
    distractor_rate: float = 0.3
    row_rate: float = 0.6
    min_height: int = 16
    max_height: int = 90
    families: tuple[str, ...] | None = None
    degrade: bool = True
    keep_masks: bool = False

    def __post_init__(self) -> None:
        if self.width < 32 or self.height < 32:
            raise ValueError(f"page size must be at least 32x32, got {self.width}x{self.height}")
        if not 0 <= self.min_digits <= self.max_digits:
            raise ValueError(
                f"need 0 <= min_digits <= max_digits, got {self.min_digits}..{self.max_digits}"
            )
        if not 0.0 <= self.touching_rate <= 1.0:
            raise ValueError(f"touching_rate must be in [0, 1], got {self.touching_rate}")
        if self.distractor_rate < 0.0:
            raise ValueError(f"distractor_rate must be >= 0, got {self.distractor_rate}")
        if not 0.0 <= self.row_rate <= 1.0:
            raise ValueError(f"row_rate must be in [0, 1], got {self.row_rate}")
        if not 6 <= self.min_height <= self.max_height:
            raise ValueError(
                f"need 6 <= min_height <= max_height, got {self.min_height}..{self.max_height}"
            )
        if self.families is not None and (
            not self.families or any(f not in FAMILIES for f in self.families)
        ):
            raise ValueError(f"families must be a non-empty subset of {FAMILIES}")


def generate_page(seed: int, config: PageConfig | None = None) -> SynthPage:
    """One page, fully determined by ``seed`` and ``config``.

    Digit annotations carry the digit's label, kind "digit" and ``touching``; every other mark
    is labelled NOT_DIGIT with its kind. Boxes are tight ink boxes in page pixels.
    """
    cfg = config or PageConfig()
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFF, 0xD161])
    screen = rng.random() < 0.12  # drawn in an app: white canvas, mouse, black, no scan
    spec = (
        paper.PaperSpec("white", "black", "plain", False, False)
        if screen
        else paper.sample_spec(rng)
    )
    angle = 0.0 if screen else float(np.clip(rng.normal(0.0, 0.012), -0.035, 0.035))
    families = _page_families(cfg, spec, screen, rng)
    objs = layout.lay_out(cfg, families, angle, rng)
    img = (
        np.full((cfg.height, cfg.width, 3), 255, np.uint8)
        if screen
        else paper.make_paper(spec, cfg.width, cfg.height, angle, rng)
    )
    colour = paper.ink_colour(spec.ink, rng)
    for ob in objs:
        paper.composite(img, ob.alpha, ob.x, ob.y, colour)
    done: list[str] = []
    if cfg.degrade and not screen:
        img, done = paper.degrade(img, rng)
    anns = tuple(
        Annotation(
            Box(ob.x, ob.y, ob.x + ob.alpha.shape[1], ob.y + ob.alpha.shape[0]),
            ob.label,
            ob.kind,
            ob.touching,
        )
        for ob in objs
    )
    meta: dict[str, object] = {
        "paper": "screen" if screen else spec.paper,
        "ink": spec.ink,
        "ruling": spec.ruling,
        "angle": angle,
        "families": list(families),
        "degradations": done,
    }
    if cfg.keep_masks:
        meta["masks"] = [(ob.alpha, ob.x, ob.y) for ob in objs]
    return SynthPage(image=img, annotations=anns, seed=int(seed), meta=meta)


def generate_pages(n: int, seed: int, config: PageConfig | None = None) -> Iterator[SynthPage]:
    """``n`` pages; page ``i`` is ``generate_page`` of a seed derived from (seed, i) only."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    for i in range(n):
        yield generate_page(page_seed(seed, i), config)


def page_seed(seed: int, index: int) -> int:
    """The seed of page ``index`` of a run seeded ``seed`` (stable across versions)."""
    mixed = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFF, int(index)]).integers(0, 2**62)
    return int(mixed)


def _page_families(
    cfg: PageConfig, spec: paper.PaperSpec, screen: bool, rng: np.random.Generator
) -> tuple[str, ...]:
    """The writing families on this page: mostly one writer, pencil ink means pencil."""
    allowed = cfg.families or FAMILIES
    if screen and "mouse" in allowed:
        return ("mouse",)
    if spec.ink == "pencil" and "pencil" in allowed:
        return ("pencil",)
    pens = [f for f in allowed if f != "pencil"] or list(allowed)
    first = pens[int(rng.integers(len(pens)))]
    if rng.random() < 0.25:  # a second hand on the same page
        return (first, pens[int(rng.integers(len(pens)))])
    return (first,)
