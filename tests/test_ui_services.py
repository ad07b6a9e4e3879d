"""The app's service calls without a window: save + stats through the real store, the counter
text, the accuracy timeline, colours by confidence, and the help overlay's list."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.store import CorrectionStore
from digitpad.types import Alternative, Box, Digit, PageResult
from digitpad.ui import services, style
from digitpad.ui.commands import KEYMAP, MOUSE_HELP
from digitpad.ui.editor import Editor
from digitpad.ui.help_overlay import help_lines


def _review(editor_edits, model="v1"):
    ed = Editor()
    digits = (
        Digit(Box(10, 10, 50, 70), "3", 0.97, (Alternative("8", 0.02),)),
        Digit(Box(80, 10, 120, 70), "5", 0.62, (Alternative("6", 0.3),)),
    )
    ed.set_result(PageResult(digits, "35", 1000, 700, model, 4.0))
    editor_edits(ed)
    return ed.build_payload()


def test_save_then_stats_counter_and_timeline(home):
    assert services.read_timeline(home) == []
    assert services.counter_text(None, "v1") == "Model v1 · no digits reviewed yet"
    unread = services.counter_text(None, "v1", store_unavailable=True)
    assert unread == "Model v1 · store unavailable"

    def fix(ed):
        ed.select(ed.review_queue()[0])  # the unsure "5"
        ed.relabel("6")

    first = services.save_review(home, _review(fix))
    second = services.save_review(home, _review(lambda ed: None, model="v2"))
    assert second.review_id > first.review_id
    assert not first.replaced and not second.replaced  # two recognitions: two reviews
    stats = services.read_stats(home)
    assert services.counter_text(stats, "v2") == "Model v2 · 75.0% on last 4 · 4 digits reviewed"
    # numbers from before the store became unreadable are not vouched for either
    assert services.counter_text(stats, "v2", store_unavailable=True).endswith("store unavailable")
    points = services.read_timeline(home)
    assert [(p.model_version, p.review.correct, p.review.total) for p in points] == [
        ("v1", 1, 2),
        ("v2", 2, 2),
    ]
    assert [p.last.accuracy for p in points] == [0.5, 0.75]
    with CorrectionStore.open(home) as store:
        assert [p.last.accuracy for p in store.timeline(last=2)] == [0.5, 1.0]


def test_saving_again_after_more_edits_counts_once_and_says_so(home):
    ed = Editor()
    digits = (
        Digit(Box(10, 10, 50, 70), "3", 0.97),
        Digit(Box(80, 10, 120, 70), "5", 0.62),
    )
    ed.set_result(PageResult(digits, "35", 1000, 700, "v1", 4.0))
    ed.select(ed.review_queue()[0])
    ed.relabel("6")
    first = services.save_review(home, ed.build_payload())
    ed.mark_saved()
    ed.relabel("5")  # on second thought the model was right
    second = services.save_review(home, ed.build_payload())
    assert second.replaced and second.review_id == first.review_id
    stats = services.read_stats(home)
    assert (stats.reviews, stats.overall.correct, stats.overall.total) == (1, 2, 2)
    assert services.counter_text(stats, "v1") == "Model v1 · 100.0% on last 2 · 2 digits reviewed"
    assert [(p.review_id, p.review.correct) for p in services.read_timeline(home)] == [
        (first.review_id, 2)
    ]
    assert services.saved_text(first, 2) == (
        f"Saved review #{first.review_id}: the page and 2 boxes in one transaction"
    )
    assert services.saved_text(second, 1) == (
        f"Saved review #{first.review_id} again: the page and 1 box in one transaction "
        "(it replaces the earlier save, so nothing counts twice)"
    )


def test_load_page_errors_are_one_line(tmp_path):
    from digitpad.errors import ImageError

    bad = tmp_path / "x.webp"
    bad.write_text("not an image")
    with pytest.raises(ImageError, match=r"^x.webp: not an image digitpad can read$"):
        services.load_page(str(bad))
    good = tmp_path / "y.png"
    from PIL import Image

    Image.fromarray(np.zeros((5, 7, 3), np.uint8)).save(good)
    assert services.load_page(str(good)).shape == (5, 7, 3)


@pytest.mark.parametrize(
    ("confidence", "colour"),
    [
        (0.99, style.GREEN),
        (0.9, style.GREEN),
        (0.89, style.AMBER),
        (0.6, style.AMBER),
        (0.59, style.RED),
        (0.0, style.RED),
    ],
)
def test_colour_by_confidence(confidence, colour):
    assert style.confidence_colour(confidence) == colour


def test_box_colour_turns_blue_once_the_person_decides():
    ed = Editor()
    ed.set_result(PageResult((Digit(Box(0, 0, 20, 30), "1", 0.95),), "1", 100, 100, "v1", 1))
    box = ed.current
    assert style.box_colour(box) == style.GREEN
    ed.relabel("7")
    assert style.box_colour(ed.current) == style.PERSON
    new = ed.add_box(Box(40, 40, 60, 70), "2")
    assert style.box_colour(ed.get(new)) == style.PERSON


def test_help_lists_every_shortcut_and_gesture():
    lines = help_lines()
    keys = [k for k, _ in lines]
    for shortcut in KEYMAP:
        if not shortcut.command.startswith("label_"):
            assert shortcut.keys in keys
    assert "0 – 9" in keys
    for gesture, _ in MOUSE_HELP:
        assert gesture in keys


def test_a_saved_page_with_no_digit_is_said_to_hold_none(home):
    # helper-53: the counter said "no reviews yet" while `stats` counted the review
    import time

    import numpy as np

    from digitpad.types import ReviewPayload

    now = time.time()
    blank = ReviewPayload(np.full((50, 60, 3), 255, np.uint8), "drawn", "v1", now - 1, now, ())
    services.save_review(home, blank)
    stats = services.read_stats(home)
    assert stats.reviews == 1 and stats.reviewed_boxes == 0
    assert services.counter_text(stats, "v1") == "Model v1 · no digits reviewed yet"
