"""Synthetic pages: determinism, exact tight boxes, distractors, touching pairs."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.synth.pages import BOX_INK_LEVEL, PageConfig, generate_page, generate_pages
from digitpad.types import DIGITS, NOT_DIGIT


def test_same_seed_same_pixels_and_annotations():
    a = generate_page(11)
    b = generate_page(11)
    c = generate_page(12)
    assert np.array_equal(a.image, b.image)
    assert a.annotations == b.annotations
    assert not np.array_equal(a.image, c.image) or a.annotations != c.annotations
    pa = [p.annotations for p in generate_pages(3, seed=5)]
    pb = [p.annotations for p in generate_pages(3, seed=5)]
    assert pa == pb and pa[0] != pa[1]


def test_page_image_shape_and_digit_count():
    cfg = PageConfig(width=640, height=480, min_digits=5, max_digits=12)
    for seed in range(4):
        p = generate_page(seed, cfg)
        assert p.image.shape == (480, 640, 3) and p.image.dtype == np.uint8
        assert 1 <= len(p.digits) <= 12
        for a in p.annotations:
            assert 0 <= a.box.x0 < a.box.x1 <= 640 and 0 <= a.box.y0 < a.box.y1 <= 480


def test_boxes_are_tight_and_hold_all_of_their_ink():
    """Each object's ink is rendered alone (meta masks): all of it lies in its box, every edge
    of the box touches ink, and on the page itself the box is darker than bare paper."""
    cfg = PageConfig(keep_masks=True, degrade=False, min_digits=15, max_digits=30)
    checked = 0
    for seed in range(6):
        page = generate_page(seed, cfg)
        masks = page.meta["masks"]
        assert len(masks) == len(page.annotations)
        grey = page.image.astype(np.float32).mean(axis=2)
        paper_level = np.median(grey)
        for ann, (alpha, x, y) in zip(page.annotations, masks, strict=True):
            full = np.zeros(page.image.shape[:2], np.float32)
            full[y : y + alpha.shape[0], x : x + alpha.shape[1]] = alpha
            ink = full > 0
            rows = np.flatnonzero(ink.any(axis=1))
            cols = np.flatnonzero(ink.any(axis=0))
            b = ann.box
            assert (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1) == (b.y0, b.x0, b.y1, b.x1)
            inside = full[b.y0 : b.y1, b.x0 : b.x1]
            assert inside.sum() == pytest.approx(full.sum())
            strong = inside >= BOX_INK_LEVEL
            assert strong[0].any() and strong[-1].any() and strong[:, 0].any()
            assert strong[:, -1].any()
            if ann.is_digit:
                crop = grey[b.y0 : b.y1, b.x0 : b.x1]
                assert crop.min() < paper_level - 20
                checked += 1
    assert checked > 60


def test_distractors_present_and_never_digits():
    kinds = set()
    n_dis = 0
    for page in generate_pages(12, seed=2, config=PageConfig(distractor_rate=0.6)):
        for a in page.annotations:
            if a.kind == "digit":
                assert a.label in DIGITS
            else:
                assert a.label == NOT_DIGIT and not a.is_digit and not a.touching
                kinds.add(a.kind)
                n_dis += 1
    assert n_dis > 30
    assert {"letter", "word", "underline"} <= kinds or len(kinds) >= 5


def test_touching_pairs_at_the_configured_rate_and_really_touch():
    for rate in (0.0, 0.3):
        cfg = PageConfig(touching_rate=rate, keep_masks=True, degrade=False, max_digits=30)
        touching = total = 0
        for page in generate_pages(25, seed=9, config=cfg):
            anns, masks = page.annotations, page.meta["masks"]
            total += len(page.digits)
            touching += sum(a.touching for a in page.digits)
            i = 0
            while i < len(anns):  # pairs are consecutive: first, then its partner
                if anns[i].touching:
                    assert anns[i + 1].touching and anns[i + 1].is_digit
                    _assert_touch(masks[i], masks[i + 1], page.image.shape[:2])
                    i += 1
                i += 1
        assert total > 200
        assert abs(touching / total - rate) < 0.04, (rate, touching, total)


def _assert_touch(m1, m2, shape) -> None:
    import cv2

    def full(m):
        alpha, x, y = m
        f = np.zeros(shape, np.uint8)
        f[y : y + alpha.shape[0], x : x + alpha.shape[1]] = alpha >= BOX_INK_LEVEL
        return f

    a, b = full(m1), full(m2)
    grown = cv2.dilate(a, np.ones((3, 3), np.uint8))
    assert (grown & b).any(), "a touching pair whose ink does not touch"


def test_config_validation():
    with pytest.raises(ValueError):
        PageConfig(touching_rate=1.5)
    with pytest.raises(ValueError):
        PageConfig(min_digits=5, max_digits=2)
    with pytest.raises(ValueError):
        PageConfig(width=10)
    with pytest.raises(ValueError):
        PageConfig(families=("quill",))


def test_families_restrict_the_page():
    p = generate_page(4, PageConfig(families=("marker",)))
    assert set(p.meta["families"]) <= {"marker"}


def test_only_touching_pairs_touch():
    """A digit not marked touching has clear paper around it: no other object's ink within
    one pixel. Members of a touching pair touch only each other."""
    import cv2

    cfg = PageConfig(touching_rate=0.3, keep_masks=True, degrade=False, min_digits=25)
    for seed in range(5):
        page = generate_page(seed, cfg)
        h, w = page.image.shape[:2]
        owner = np.full((h, w), -1, np.int32)
        clash = 0
        for i, (alpha, x, y) in enumerate(page.meta["masks"]):
            region = owner[y : y + alpha.shape[0], x : x + alpha.shape[1]]
            ink = alpha >= BOX_INK_LEVEL
            clash += int(((region >= 0) & ink).sum()) if not page.annotations[i].touching else 0
            region[ink] = i
        assert clash == 0
        anns = page.annotations
        for i, (alpha, x, y) in enumerate(page.meta["masks"]):
            if not anns[i].is_digit:
                continue
            mask = np.zeros((h, w), np.uint8)
            mask[y : y + alpha.shape[0], x : x + alpha.shape[1]] = alpha >= BOX_INK_LEVEL
            near = set(np.unique(owner[cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0])) - {
                -1,
                i,
            }
            if anns[i].touching:
                assert len(near) == 1 and anns[near.pop()].touching
            else:
                assert not near, (seed, i, near)


def test_distractors_sit_near_digits():
    near = total = 0
    for page in generate_pages(10, seed=4, config=PageConfig(distractor_rate=0.5)):
        digits = page.digits
        for a in page.distractors:
            total += 1
            gaps = [
                max(
                    d.box.x0 - a.box.x1,
                    a.box.x0 - d.box.x1,
                    d.box.y0 - a.box.y1,
                    a.box.y0 - d.box.y1,
                )
                for d in digits
            ]
            near += bool(gaps) and min(gaps) <= max(a.box.height, 20)
    assert total > 20 and near / total > 0.4
