"""The pen draws into a full-resolution buffer as it moves; the eraser and Clear undo cleanly."""

from __future__ import annotations

import numpy as np

from digitpad.ui.drawing import Drawing


def _ink(d: Drawing) -> np.ndarray:
    return d.array().min(axis=2) < 128


def test_stroke_is_in_the_buffer_while_drawing_at_full_resolution():
    d = Drawing(size=(400, 300))
    d.set_pen_width(6)
    d.begin(20, 150)
    for x in range(20, 381, 20):
        region = d.extend(x, 150)
        assert region.area > 0
    # Before the stroke ends, the buffer already holds the ink (no screen grab involved).
    ink = _ink(d)
    assert ink[150, 200] and ink[150, 40]
    rows = np.nonzero(ink[:, 200])[0]
    assert 4 <= len(rows) <= 8  # the line is about pen width thick
    edit = d.end()
    assert edit is not None and edit.label == "stroke"
    assert edit.region.x0 <= 20 - 3 and edit.region.x1 >= 340
    assert edit.before.shape == edit.after.shape == (edit.region.height, edit.region.width, 3)


def test_smoothing_removes_jitter():
    d = Drawing(size=(400, 300))
    d.set_pen_width(2)
    d.begin(10, 150)
    for i, x in enumerate(range(12, 390, 4)):
        d.extend(x, 150 + (6 if i % 2 else -6))  # a shaky hand: +-6 px every step
    d.end()
    rows = np.nonzero(_ink(d)[:, 200])[0]
    assert rows.max() - rows.min() < 12  # the raw zigzag would span 12 px plus the pen


def test_eraser_and_undo_restore_pixels():
    d = Drawing(size=(200, 200))
    d.begin(20, 100)
    d.extend(180, 100)
    stroke = d.end()
    d.begin(100, 60, eraser=True)
    d.extend(100, 140)
    erase = d.end()
    assert erase.label == "erase" and not _ink(d)[100, 100] and _ink(d)[100, 30]
    erase.undo()
    assert _ink(d)[100, 100]
    stroke.undo()
    assert not _ink(d).any()
    stroke.redo()
    erase.redo()
    assert not _ink(d)[100, 100] and _ink(d)[100, 30]


def test_width_limits_and_clear():
    d = Drawing(size=(100, 100))
    d.set_pen_width(500)
    assert d.pen_width == 60
    d.set_pen_width(0)
    assert d.pen_width == 1
    assert d.clear() is None  # already blank
    d.begin(50, 50)
    d.end()
    assert d.has_ink()
    before = d.revision
    edit = d.clear()
    assert not d.has_ink() and d.revision > before
    edit.undo()
    assert d.has_ink()


def test_loaded_image_is_copied():
    img = np.zeros((30, 40, 3), np.uint8)
    d = Drawing(img)
    assert d.size == (40, 30) and d.has_ink()
    d.begin(5, 5, eraser=True)
    d.end()
    assert img.max() == 0  # the caller's array is untouched


def test_stroke_ends_exactly_where_the_pen_lifts():
    d = Drawing(size=(300, 100))
    d.set_pen_width(4)
    d.begin(10, 50)
    d.extend(290, 50)  # one fast move: smoothing alone would stop well short of x=290
    d.end()
    assert _ink(d)[50, 288]


def test_undo_of_a_stroke_that_crosses_itself_restores_every_pixel():
    rng = np.random.default_rng(5)
    page = rng.integers(0, 256, size=(120, 160, 3), dtype=np.uint8)  # a photo, not plain paper
    d = Drawing(page)
    d.set_pen_width(9)
    d.begin(20, 20)
    for x, y in [(140, 100), (20, 100), (140, 20), (80, 60), (82, 61), (20, 20)]:
        d.extend(x, y)
    edit = d.end()
    drawn = d.array()
    assert edit is not None and not np.array_equal(drawn, page)
    edit.undo()
    assert np.array_equal(d.array(), page)
    edit.redo()
    assert np.array_equal(d.array(), drawn)


def test_ink_is_looked_for_again_only_after_a_change_that_can_remove_it():
    d = Drawing(size=(200, 100))
    assert not d.has_ink()
    d.begin(20, 50)
    d.extend(150, 50)
    d.end()
    assert d.has_ink()
    d.set_pen_width(60)
    d.begin(0, 50, eraser=True)
    d.extend(199, 50)
    edit = d.end()
    assert not d.has_ink()  # erased: looked at again, and gone
    edit.undo()
    assert d.has_ink()
    d.clear()
    assert not d.has_ink()


def _scribble(d: Drawing, rng: np.random.Generator, *, eraser: bool = False):
    w, h = d.size
    d.begin(*rng.uniform(0, (w, h)), eraser=eraser)
    for _ in range(3):
        d.extend(*rng.uniform(0, (w, h)))
    return d.end()


def test_a_snapshot_is_the_page_as_it_was_whatever_happens_after_it():
    rng = np.random.default_rng(11)
    page = rng.integers(0, 256, size=(80, 120, 3), dtype=np.uint8)
    d = Drawing(page)
    d.set_pen_width(15)  # strokes worth more than a page soon fold the journal into its base
    taken, edits = [], []
    for step in range(60):
        kind = step % 6
        if kind in (0, 1, 2):
            edit = _scribble(d, rng, eraser=kind == 2)
            if edit is not None:
                edits.append(edit)
        elif kind == 3 and edits:
            edits[-1].undo()
        elif kind == 4 and edits:
            edits[-1].redo()
        elif step % 12 == 5:
            clear = d.clear()
            if clear is not None and step % 24 == 5:
                clear.undo()  # a Clear taken back: the whole page pasted back
        else:
            snap = d.snapshot()
            d.rebase(snap, _frozen(snap.array()))  # a save committed: its pixels are the base
        snap = d.snapshot()
        assert np.array_equal(snap.array(), d.array()), step
        taken.append((snap, d.array()))
    for step, (snap, then) in enumerate(taken):
        assert np.array_equal(snap.array(), then), step  # nothing drawn later leaked in


def test_a_snapshot_copies_no_pixels_and_misses_the_stroke_still_drawn():
    page = np.full((600, 800, 3), 200, np.uint8)
    d = Drawing(page)
    first = d.snapshot()
    assert first.base is d.snapshot().base and first.regions == ()  # shared, read-only
    assert not first.base.flags.writeable
    d.begin(100, 100)
    d.extend(300, 100)
    during = d.snapshot()  # the stroke has no undo step yet, so no save holds it either
    d.end()
    assert np.array_equal(during.array(), page)
    assert not np.array_equal(d.snapshot().array(), page)


def test_rebase_ignores_a_snapshot_from_before_a_clear_or_of_another_drawing():
    d = Drawing(size=(60, 40))
    _scribble(d, np.random.default_rng(1))
    old = d.snapshot()
    d.clear()
    d.rebase(old, _frozen(old.array()))  # stale: the page is blank since
    assert not d.has_ink() and np.array_equal(d.snapshot().array(), d.array())
    other = Drawing(size=(60, 40))
    _scribble(other, np.random.default_rng(2))
    snap = other.snapshot()
    d.rebase(snap, _frozen(snap.array()))
    assert np.array_equal(d.snapshot().array(), d.array())


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def test_rewrites_count_every_change_that_can_take_ink_away_and_no_pen_stroke():
    d = Drawing(size=(200, 200))
    d.begin(20, 100)
    d.extend(180, 100)
    stroke = d.end()
    assert d.rewrites == 0  # a pen stroke only adds ink
    d.begin(100, 60, eraser=True)
    d.extend(100, 140)
    erase = d.end()
    assert d.rewrites == 1
    erase.undo()
    stroke.undo()
    stroke.redo()
    assert d.rewrites == 4
    d.clear()
    assert d.rewrites == 5


def test_a_stroke_that_changes_no_pixel_leaves_the_page_blank_and_nothing_to_clear():
    d = Drawing(size=(200, 200))
    d.begin(-d.pen_width / 2 - 1.5, 100)  # a click just off the page's edge
    assert d.end() is None
    assert not d.has_ink() and d.clear() is None


def test_clear_wipes_a_page_too_faint_to_count_as_ink():
    page = np.full((50, 60, 3), 253, np.uint8)
    page[20:30, 20:30] = (255, 255, 215)  # a pale mark on light paper: no ink by has_ink
    d = Drawing(page)
    assert not d.has_ink()
    edit = d.clear()
    assert edit is not None and (d.array() == 255).all()
    edit.undo()
    assert np.array_equal(d.array(), page)


def test_an_eraser_counts_as_a_rewrite_from_its_first_segment():
    d = Drawing(size=(200, 200))
    d.begin(100, 60, eraser=True)
    assert d.rewrites == 1  # a reading arriving mid-rub is already stale


def test_an_eraser_that_rubbed_out_nothing_is_no_rewrite():
    # helper-53: a click of the eraser on blank paper dropped the reading in flight
    page = np.full((200, 200, 3), 255, np.uint8)
    page[100:110, 20:60] = 0
    d = Drawing(page)
    d.begin(150, 40, eraser=True)
    d.extend(160, 40)
    assert d.end() is None and d.rewrites == 0
    d.begin(40, 105, eraser=True)  # over the ink: a rewrite
    assert d.end() is not None and d.rewrites == 1


def _inked(d: Drawing) -> bool:
    """Whether the page has ink, looked at whole (what has_ink keeps by tiles)."""
    lo, _ = d.image.convert("L").getextrema()
    return lo < 250


def test_has_ink_by_tiles_agrees_with_a_look_at_the_whole_page():
    rng = np.random.default_rng(7)
    page = np.full((1300, 1700, 3), 255, np.uint8)
    page[1200:1210, 1650:1660] = 0  # ink in the last, partial tile only
    d = Drawing(page)
    edits = []
    for step in range(60):
        kind = rng.integers(0, 5)
        if kind <= 1:
            d.set_pen_width(int(rng.integers(2, 60)))
            edit = _scribble(d, rng, eraser=kind == 1)
            edits.append(edit) if edit is not None else None
        elif kind == 2 and edits:
            edits.pop().undo()
        elif kind == 3:
            d.set_pen_width(200)
            edit = _scribble(d, rng, eraser=True)
            edits.append(edit) if edit is not None else None
        elif step % 20 == 0:
            d.clear()
            edits.clear()
        assert d.has_ink() == _inked(d), step


def test_a_small_erase_on_a_huge_page_looks_again_at_its_tiles_only(monkeypatch):
    # helper-53: an eraser stroke, an undo or a redo on a 12000x9000 scan took 150 ms (up to
    # 570 ms on a busy machine) on the Tk thread: has_ink looked at the whole page again
    page = np.full((3000, 4000, 3), 255, np.uint8)
    page[100:110, 100:110] = 0
    page[1995:2015, 1990:2060] = 0  # a stroke to rub out
    d = Drawing(page)
    assert d.has_ink()
    looked: list[tuple[int, int, int, int]] = []
    real = Drawing._look_at
    monkeypatch.setattr(
        Drawing, "_look_at", lambda self, r: (looked.append(r.as_tuple()), real(self, r))[1]
    )
    d.set_pen_width(20)
    d.begin(2000, 2000, eraser=True)
    d.extend(2050, 2010)
    d.end().undo()
    assert d.has_ink() and len(looked) == 1
    x0, y0, x1, y1 = looked[0]
    assert (x1 - x0) * (y1 - y0) <= 2 * 512 * 512  # the tiles the eraser went over
    looked.clear()
    d.set_pen_width(8)
    for x, y in ((50, 50), (3900, 2900)):  # two strokes in opposite corners, then an erase
        d.begin(x, y)
        d.extend(x + 30, y + 30)
        d.end()
    d.set_pen_width(20)
    d.begin(2000, 2000, eraser=True)
    d.extend(2050, 2010)
    d.end()
    assert d.has_ink()
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in looked) <= 4 * 512 * 512
