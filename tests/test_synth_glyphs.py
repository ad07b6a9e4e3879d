"""Glyph-level behaviour of the synthetic handwriting generator."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.preprocess import preprocess_crop
from digitpad.synth.glyphs import (
    FAMILIES,
    NONDIGIT_KINDS,
    glyph_samples,
    render_digit,
    render_nondigit,
)
from digitpad.synth.skeletons import DIGIT_SKELETONS


def test_render_digit_is_ink_with_a_margin():
    for d in "0123456789":
        ink = render_digit(d, np.random.default_rng(int(d)), height=40)
        assert ink.dtype == np.float32
        assert ink.min() >= 0.0 and ink.max() <= 1.0
        assert ink.max() > 0.4  # visible ink
        # a blank margin all round: nothing touches the crop border
        assert ink[0].max() < 0.1 and ink[-1].max() < 0.1
        assert ink[:, 0].max() < 0.1 and ink[:, -1].max() < 0.1
        rows = np.flatnonzero((ink > 0.1).any(axis=1))
        assert 30 <= rows[-1] - rows[0] + 1 <= 56  # about the height asked for


def test_every_family_renders_every_allograph_label():
    for fam in FAMILIES:
        for d in "0123456789":
            ink = render_digit(d, np.random.default_rng(7), families=[fam])
            assert (ink > 0.2).sum() > 10


def test_several_allographs_per_digit():
    assert all(len(v) >= 3 for k, v in DIGIT_SKELETONS.items() if k != "1") and set(
        DIGIT_SKELETONS
    ) == set("0123456789")
    assert len(DIGIT_SKELETONS["1"]) >= 4


def test_render_digit_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        render_digit("x", rng)
    with pytest.raises(ValueError):
        render_digit("3", rng, families=["crayon"])


def test_same_rng_seed_same_glyph():
    a = render_digit("4", np.random.default_rng(123))
    b = render_digit("4", np.random.default_rng(123))
    c = render_digit("4", np.random.default_rng(124))
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


@pytest.mark.parametrize("kind", NONDIGIT_KINDS)
def test_every_nondigit_kind_renders(kind):
    ink, got = render_nondigit(np.random.default_rng(5), kind=kind, height=40)
    assert got == kind
    assert ink.dtype == np.float32 and (ink > 0.2).sum() >= 3


def test_nondigit_unknown_kind_raises():
    with pytest.raises(ValueError):
        render_nondigit(np.random.default_rng(0), kind="emoji")


def test_glyph_samples_balanced_and_deterministic():
    crops, labels = glyph_samples(220, seed=3, negatives=0.1)
    assert len(crops) == 220 and labels.shape == (220,)
    counts = np.bincount(labels, minlength=11)
    assert counts[10] == 22
    assert counts[:10].sum() == 198 and counts[:10].max() - counts[:10].min() <= 1
    crops2, labels2 = glyph_samples(220, seed=3, negatives=0.1)
    assert np.array_equal(labels, labels2)
    assert all(np.array_equal(a, b) for a, b in zip(crops, crops2, strict=True))
    x = np.stack([preprocess_crop(c) for c in crops[:20]])
    assert x.shape == (20, 28, 28) and (x.reshape(20, -1).max(axis=1) > 0.9).all()


def test_glyph_samples_respects_families():
    crops, labels = glyph_samples(20, seed=1, negatives=0.0, families=["marker"])
    assert (labels < 10).all()
    # marker strokes are thick: lots of ink relative to the box
    fill = np.mean([(preprocess_crop(c) > 0.5).mean() for c in crops])
    thin, _ = glyph_samples(20, seed=1, negatives=0.0, families=["mouse"])
    thin_fill = np.mean([(preprocess_crop(c) > 0.5).mean() for c in thin])
    assert fill > thin_fill


def test_skeleton_groups_join_into_one_table_in_label_order():
    from digitpad.synth import skeletons_0to4, skeletons_5to9

    low, high = skeletons_0to4.ALLOGRAPHS, skeletons_5to9.ALLOGRAPHS
    assert list(low) == list("01234") and list(high) == list("56789")
    # Label order matters: the generator's draws walk the table in this order.
    assert list(DIGIT_SKELETONS) == [str(d) for d in range(10)]
    assert all(DIGIT_SKELETONS[k] is v for k, v in {**low, **high}.items())
