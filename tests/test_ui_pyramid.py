"""The canvas's halved copies of the page, brought up to date region by region."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from digitpad.types import Box
from digitpad.ui.canvas_view import update_pyramid
from digitpad.ui.drawing import Drawing


def _levels(image: Image.Image, n: int) -> list[Image.Image]:
    levels = [image]
    for _ in range(n):
        levels.append(levels[-1].reduce(2))
    return levels


@pytest.mark.parametrize("size", [(1001, 777), (1024, 768), (999, 1)])
@pytest.mark.parametrize(
    "region",
    [Box(0, 0, 1, 1), Box(333, 101, 517, 402), Box(990, 700, 1001, 777), Box(0, 0, 1024, 777)],
)
def test_a_region_halved_again_gives_exactly_the_whole_pyramid(size, region):
    rng = np.random.default_rng(size[0] + region.x0)
    page = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")
    levels = _levels(page, 5)
    region = region.clip(*size)
    patch = rng.integers(0, 256, (region.height, region.width, 3), dtype=np.uint8)
    page.paste(Image.fromarray(patch, "RGB"), (region.x0, region.y0))
    update_pyramid(levels, region)
    for got, want in zip(levels, _levels(page, 5), strict=True):
        assert np.array_equal(np.asarray(got), np.asarray(want))


def test_the_drawing_says_which_region_changed_since_a_revision():
    d = Drawing(size=(400, 300))
    start = d.revision
    assert d.changed_since(start) == Box(0, 0, 0, 0)
    d.begin(100, 100)
    d.extend(120, 180)
    stroke = d.end()
    changed = d.changed_since(start)
    assert changed is not None and changed.x0 <= 100 - 4 and changed.y1 >= 180 + 4
    assert changed.width < 100  # the stroke's own region, not the page
    mid = d.revision
    stroke.undo()
    assert d.changed_since(mid) == stroke.region
    assert d.clear() is None  # nothing left to clear: no change
    assert d.changed_since(mid) == stroke.region
    stroke.redo()
    d.clear()
    assert d.changed_since(mid) == Box(0, 0, 400, 300)
    assert d.changed_since(-1) is None  # from before anything it remembers: all of it
