"""Stroke skeletons of the digits 0-9, several allographs each.

Coordinates are in a unit box: x right, y down, the digit spanning y 0..1 and roughly x 0..1
(the style's aspect ratio narrows it later). See ``strokes`` for strokes and pieces. Each
allograph has a weight: how often people write it that way.

The table itself is long, so it lives in two data modules by digit group
(:mod:`~digitpad.synth.skeletons_0to4`, :mod:`~digitpad.synth.skeletons_5to9`); this module joins
them in label order, which the generator's random draws depend on.
"""

from __future__ import annotations

from digitpad.synth import skeletons_0to4, skeletons_5to9
from digitpad.synth.strokes import Skeleton

# label -> [(allograph name, weight, skeleton)], labels "0".."9" in order
DIGIT_SKELETONS: dict[str, list[tuple[str, float, Skeleton]]] = {
    **skeletons_0to4.ALLOGRAPHS,
    **skeletons_5to9.ALLOGRAPHS,
}
