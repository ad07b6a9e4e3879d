"""Which resize handle a press takes: a small box on the screen is still moved by a press on it
(helper-50 found a selected "1", 8 px wide at normal zoom, stretched by a drag from its middle)."""

from __future__ import annotations

import pytest

from digitpad.ui.handles import handle_at

REACH = 7


@pytest.mark.parametrize("width", [4, 8, 14, 20])
def test_a_press_in_the_middle_of_a_narrow_box_moves_it(width):
    box = (100, 100, 100 + width, 260)  # a "1": narrow and tall on the screen
    assert handle_at(box, 100 + width / 2, 180, REACH) is None


def test_a_tiny_box_is_moved_from_inside_and_resized_from_outside():
    box = (100, 100, 108, 108)
    assert handle_at(box, 104, 104, REACH) is None
    assert handle_at(box, 97, 97, REACH) == "nw"
    assert handle_at(box, 111, 111, REACH) == "se"
    assert handle_at(box, 111, 104, REACH) == "e"
    assert handle_at(box, 104, 96, REACH) == "n"


def test_a_big_box_takes_its_handles_from_either_side_of_the_edge():
    box = (100, 100, 300, 300)
    assert handle_at(box, 104, 104, REACH) == "nw"
    assert handle_at(box, 95, 95, REACH) == "nw"
    assert handle_at(box, 296, 200, REACH) == "e"
    assert handle_at(box, 200, 306, REACH) == "s"
    assert handle_at(box, 200, 200, REACH) is None
    assert handle_at(box, 108, 200, REACH) is None  # past the handle's reach inside
    assert handle_at(box, 92, 200, REACH) is None  # past it outside


def test_the_middle_handles_of_a_narrow_box_still_resize_its_height():
    box = (100, 100, 108, 260)
    assert handle_at(box, 104, 98, REACH) == "n"
    assert handle_at(box, 104, 104, REACH) == "n"  # a tall box keeps its grip inside the top
    assert handle_at(box, 104, 263, REACH) == "s"


def test_a_span_out_of_view_is_shifted_just_into_it():
    from digitpad.ui.canvas_view import shift_into_view

    assert shift_into_view(100, 200, 800, 24) == 0  # in view: stays
    assert shift_into_view(5, 795, 800, 24) == 0  # in view, within the margin: stays too
    assert shift_into_view(-300, -200, 800, 24) == 324  # left of it: to the margin
    assert shift_into_view(-50, 50, 800, 24) == 74  # partly out: whole, to the margin
    assert shift_into_view(2000, 2100, 800, 24) == 800 - 24 - 2100
    # wider than the view: left alone while some of it shows (its edge being lined up stays)
    assert shift_into_view(-500, 1500, 800, 24) == 0
    assert shift_into_view(80, 2000, 800, 24) == 0
    assert shift_into_view(-2000, -500, 800, 24) == 800 - 24 + 500  # its end comes in
    assert shift_into_view(900, 3000, 800, 24) == 24 - 900


def test_the_shortcut_list_is_drawn_smaller_on_a_small_canvas():
    from digitpad.ui.help_overlay import help_scale

    assert help_scale(1000, 800, 20, 400) == 1.0  # fits: full size
    assert help_scale(571, 490, 20, 400) == pytest.approx(551 / 2 / 400)  # narrow
    assert help_scale(951, 400, 20, 400) == pytest.approx(380 / 490)  # short
    assert help_scale(200, 100, 20, 400) == 0.5  # never smaller than half
