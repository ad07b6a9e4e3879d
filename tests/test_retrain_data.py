"""Retrain data assembly: held-out split, mixing with replay, simulated reviews."""

from __future__ import annotations

import numpy as np

from digitpad.retrain.data import DataConfig, replay_size, stable_holdout, training_set
from digitpad.retrain.simulate import review_outcomes
from digitpad.types import NOT_DIGIT, Alternative, Annotation, Box, Digit, PageResult


def _crops(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 1, 28, 28), dtype=np.float32)


def test_holdout_is_a_fifth_by_hash_and_keeps_every_label_in_training():
    y = np.array([0] * 300 + [1] * 200 + [2] * 2 + [3])
    X = _crops(len(y), 0)
    train, held = stable_holdout(X, y, 0.2, seed=1)
    assert set(train).isdisjoint(held) and len(train) + len(held) == len(y)
    assert 0.14 < len(held) / len(y) < 0.26
    assert set(y[train]) == {0, 1, 2, 3}  # every label is still learnt from
    assert np.array_equal(stable_holdout(X, y, 0.2, seed=1)[1], held)  # deterministic
    assert not np.array_equal(stable_holdout(X, y, 0.2, seed=2)[1], held)


def test_holdout_keeps_every_correction_on_its_side_as_more_come():
    # a held-out correction must not have been trained on by the model before it
    y = np.array(list(range(10)) * 30)
    X = _crops(len(y), 3)
    _, held = stable_holdout(X, y, 0.2, seed=0)
    more_X = np.concatenate([X, _crops(40, 4)])
    more_y = np.concatenate([y, np.arange(40) % 10])
    _, held_later = stable_holdout(more_X, more_y, 0.2, seed=0)
    assert set(held) == set(held_later[held_later < len(y)])


def test_the_same_crop_twice_is_on_one_side():
    # a digit on a page saved again after more was written: the same crop, once per page
    X = _crops(100, 5)
    X2 = np.concatenate([X, X])
    y2 = np.tile(np.arange(100) % 10, 2)
    _, held = stable_holdout(X2, y2, 0.2, seed=0)
    assert len(held) > 0 and set(held % 100) == set(held[held < 100])
    assert set(held[held >= 100] - 100) == set(held[held < 100])


def test_training_set_weighs_corrections_and_keeps_class_proportions():
    # pool: half "not a digit", digits equally: the proportions the model learnt from
    y_pool = np.array([10] * 1000 + list(range(10)) * 100)
    X_pool = np.zeros((len(y_pool), 1, 28, 28), np.float32)
    X_c, y_c = np.ones((10, 1, 28, 28), np.float32), np.full(10, 7)
    config = DataConfig(min_replay=1000, correction_share=0.5, max_repeat=20)
    X, y, info = training_set(X_c, y_c, X_pool, y_pool, config)
    assert info["repeat"] == 20  # 10 corrections would weigh 100x for share 0.5: capped
    assert (X[:, 0, 0, 0] == 1).sum() == 200 and len(X) == len(y)
    counts = np.bincount(y, minlength=11)
    # every class is topped up to its pool share of (budget + corrections) = 1200: "not a digit"
    # to half of it; the corrected digit is not topped up, but keeps its natural replay
    assert counts[10] == 600
    assert all(counts[k] == 60 for k in range(10) if k != 7)
    assert counts[7] == 200 + 50
    many = DataConfig(min_replay=1000, replay_ratio=1.0, correction_share=0.5)
    _, _, info = training_set(
        np.ones((1000, 1, 28, 28), np.float32), np.full(1000, 4), X_pool, y_pool, many
    )
    assert info["repeat"] == 1
    assert replay_size(10, DataConfig(min_replay=2000)) == 2000
    assert replay_size(5000, DataConfig(replay_ratio=2.0)) == 10000


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


def test_blend_weights_moves_floats_halfway_and_keeps_counters():
    import torch

    from digitpad.retrain.run import blend_weights

    before = {"state_dict": {"w": torch.zeros(3), "n": torch.tensor(5)}}
    tuned = {
        "state_dict": {"w": torch.full((3,), 2.0), "n": torch.tensor(9)},
        "epoch": 4,
        "metrics": {"seconds": 1.0},
    }
    out = blend_weights(before, tuned, 0.25)
    assert torch.allclose(out["state_dict"]["w"], torch.full((3,), 0.5))
    assert int(out["state_dict"]["n"]) == 9 and out["epoch"] == 4
    assert out["metrics"] == {"seconds": 1.0, "blend": 0.25}
    assert torch.equal(tuned["state_dict"]["w"], torch.full((3,), 2.0))  # inputs untouched
    assert torch.equal(
        blend_weights(before, tuned, 1.0)["state_dict"]["w"], tuned["state_dict"]["w"]
    )


def test_fragments_of_kept_digits_are_not_taught_as_non_digits():
    from types import SimpleNamespace as S

    from digitpad.retrain.data import teachable

    items = [
        S(box=Box(0, 0, 20, 40), label="4"),
        S(box=Box(2, 0, 8, 40), label=NOT_DIGIT),  # a stroke of the 4: left out
        S(box=Box(100, 0, 106, 40), label=NOT_DIGIT),  # a lone stroke the person deleted: kept
        S(box=Box(30, 0, 50, 40), label="1"),
        S(box=Box(0, 0, 50, 40), label=NOT_DIGIT),  # a box holding two digits: kept
    ]
    kept = teachable(items)
    assert [i for i, s in enumerate(items) if s in kept] == [0, 2, 3, 4]


def test_a_labels_first_correction_trains_whatever_comes_after_it():
    # its side must not change when a later correction of the label arrives, nor differ
    # between two copies of it
    rng = np.random.default_rng(7)
    for _ in range(50):
        first = rng.random((1, 1, 28, 28), dtype=np.float32)
        later = rng.random((3, 1, 28, 28), dtype=np.float32)
        for X in (first, np.concatenate([first, later]), np.concatenate([first, first, later])):
            train, _ = stable_holdout(X, np.zeros(len(X), int), 0.9, seed=0)
            assert 0 in train and (len(X) < 2 or not np.array_equal(X[1], X[0]) or 1 in train)
    # float64 copies of the same crops split the same
    X, y = _crops(200, 8), np.arange(200) % 10
    assert np.array_equal(
        stable_holdout(X, y, 0.2, 0)[1], stable_holdout(X.astype(np.float64), y, 0.2, 0)[1]
    )
