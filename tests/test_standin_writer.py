"""The adaptation benchmark's synthetic stand-in writers: seeded, balanced, box-filling, and
named on the command line."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.adaptation import main, writer_digits
from benchmarks.standin_writer import make_writer


def test_a_writer_is_the_same_every_time_and_differs_from_another():
    a_images, a_labels = make_writer(3, n=40)
    b_images, b_labels = make_writer(3, n=40)
    assert np.array_equal(a_images, b_images) and np.array_equal(a_labels, b_labels)
    assert not np.array_equal(make_writer(4, n=40)[0], a_images)


def test_digits_are_balanced_and_fill_a_32_pixel_box():
    images, labels = make_writer(2, n=50)
    assert images.shape == (50, 32, 32) and images.dtype == np.float32
    assert np.bincount(labels, minlength=10).tolist() == [5] * 10
    assert images.min() >= 0.0 and images.max() <= 1.0
    for ink in images:
        ys, xs = np.nonzero(ink > 0.2)
        assert max(np.ptp(ys), np.ptp(xs)) + 1 >= 26  # fitted to 28 px, as form digits are


def test_a_writer_keeps_one_hand_for_each_digit():
    # the same allograph every time: two 7s of one writer overlap far more than a 7 and a 1
    images, labels = make_writer(5, n=60)
    sevens, ones = images[labels == 7] > 0.5, images[labels == 1] > 0.5

    def iou(a, b):
        return (a & b).sum() / max(1, (a | b).sum())

    assert iou(sevens[0], sevens[1]) > iou(sevens[0], ones[0])


def test_the_benchmark_names_its_writers():
    assert writer_digits("standin-2")[0].shape == (2874, 32, 32)
    with pytest.raises(ValueError, match="unknown writer"):
        writer_digits("standin-x")


def test_an_unknown_writer_is_one_line_and_exit_2(capsys):
    assert main(["--writer", "nobody", "--ks", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("adaptation: unknown writer 'nobody'") and "\n" not in err
