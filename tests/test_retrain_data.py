"""Retrain data assembly: held-out split, mixing with replay, simulated reviews."""

from __future__ import annotations

import numpy as np

from digitpad.retrain.data import DataConfig, mix, replay_size, stratified_holdout
from digitpad.retrain.simulate import review_outcomes
from digitpad.types import NOT_DIGIT, Alternative, Annotation, Box, Digit, PageResult


def test_holdout_is_stratified_and_keeps_rare_labels_in_training():
    y = np.array([0] * 10 + [1] * 5 + [2] * 2 + [3])
    train, held = stratified_holdout(y, 0.2, seed=1)
    assert set(train).isdisjoint(held) and len(train) + len(held) == len(y)
    assert np.bincount(y[held], minlength=4).tolist() == [2, 1, 0, 0]
    assert set(y[train]) == {0, 1, 2, 3}  # every label is still learnt from
    again = stratified_holdout(y, 0.2, seed=1)
    assert np.array_equal(again[1], held)  # deterministic per seed
    assert not np.array_equal(stratified_holdout(y, 0.2, seed=2)[1], held)


def test_mix_oversamples_few_corrections_but_caps_it():
    Xc, yc = np.ones((10, 1, 28, 28), np.float32), np.full(10, 4)
    Xr, yr = np.zeros((1100, 1, 28, 28), np.float32), np.arange(1100) % 11
    X, y, r = mix(Xc, yc, Xr, yr, DataConfig(correction_share=0.5, max_repeat=20))
    assert r == 20 and len(y) == 10 * 20 + 1100
    assert (X[:, 0, 0, 0] == 1).sum() == 200 and (y == 4).sum() == 200 + 100
    many = np.ones((1100, 1, 28, 28), np.float32)
    _, _, r = mix(many, np.full(1100, 4), Xr, yr, DataConfig(correction_share=0.5))
    assert r == 1
    assert replay_size(10, DataConfig()) == 1100
    assert replay_size(5000, DataConfig(replay_ratio=1.0)) == 5000


def test_simulated_review_outcomes():
    truth = [
        Annotation(Box(0, 0, 10, 20), "1"),
        Annotation(Box(20, 0, 30, 20), "7"),
        Annotation(Box(40, 0, 50, 20), "3"),
        Annotation(Box(60, 0, 70, 20), "5"),
        Annotation(Box(80, 0, 90, 20), NOT_DIGIT, kind="letter"),
    ]
    alt = (Alternative("4", 0.1),)
    preds = (
        Digit(Box(0, 0, 10, 20), "1", 0.99, alt),  # right: accepted
        Digit(Box(20, 0, 30, 20), "1", 0.6, alt),  # wrong label: relabelled
        Digit(Box(40, 0, 50, 19), "3", 0.9, alt),  # same label, box off a little: moved
        Digit(Box(80, 0, 90, 20), "4", 0.5, alt),  # a letter read as a digit: deleted
    )
    result = PageResult(preds, "", 100, 20, "v1", 1.0)
    out = review_outcomes(truth, result)
    assert [(o.outcome, o.final_label) for o in out] == [
        ("accepted", "1"),
        ("relabelled", "7"),
        ("moved", "3"),
        ("deleted", NOT_DIGIT),
        ("added", "5"),
    ]
    assert out[2].box == Box(40, 0, 50, 20) and out[2].predicted_box == Box(40, 0, 50, 19)
    assert out[4].predicted_label is None and out[0].confidence == 0.99
    assert [o.outcome for o in review_outcomes(truth, None)] == ["added"] * 4
