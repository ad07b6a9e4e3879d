"""Fitting the context stage after a retrain: only the stage changes, the check can refuse the
fit, the same seed gives the same stage, a cancel is honoured, and reviewed pages carry their
digits as the stage's truth."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from digitpad.retrain.data import Cancelled, load_corrections
from digitpad.retrain.stage import StageConfig, fit_stage
from digitpad.store.records import TrainingSample
from digitpad.types import NOT_DIGIT, Box

TINY = StageConfig(pages=4, check_pages=3, epochs=1, max_extra_fixes=100)


@pytest.fixture(scope="module")
def staged_ckpt() -> dict:
    """A tiny classifier with a tiny context stage, trained in a few seconds."""
    from digitpad.training.context import ContextTrainConfig, context_stage
    from digitpad.training.data import crops_from_pages
    from digitpad.training.drawn import draw_page
    from digitpad.training.model import ModelConfig
    from digitpad.training.train import TrainConfig, train

    X, y = crops_from_pages(draw_page(s, distractors=3) for s in range(12))
    config = TrainConfig(
        epochs=2, threads=1, model=ModelConfig(widths=(4, 8, 8), convs=(1, 1, 1), hidden=16)
    )
    ckpt = train(X, y, config)
    ckpt["context"] = context_stage(ckpt, ContextTrainConfig(pages=8, epochs=1), seed=0)
    return ckpt


@pytest.fixture(scope="module")
def reviewed() -> list:
    """Two reviewed pages: drawn digits, their annotations the truth."""
    from digitpad.training.drawn import draw_page

    return [draw_page(700 + s, n_digits=8, distractors=2, width=600, height=260) for s in range(2)]


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_only_the_stage_is_fitted(staged_ckpt, reviewed):
    fit = fit_stage(staged_ckpt, reviewed, TINY, seed=3)
    assert fit.adapted and fit.metrics["adapted"]
    assert _same(fit.checkpoint["state_dict"], staged_ckpt["state_dict"])
    assert not _same(fit.checkpoint["context"]["state_dict"], staged_ckpt["context"]["state_dict"])
    m = fit.metrics
    assert m["rows_person"] > 0 and m["rows_replay"] > 0 and m["check_pages"] == 3
    assert m["blend"] == 1.0 and set(m["check_fixes"]) == {"before", "1"}
    assert "fitted to your pages (100% of the fit" in fit.describe()


def test_a_fit_that_fails_the_check_keeps_the_old_stage(staged_ckpt, reviewed):
    never = StageConfig(pages=4, check_pages=3, epochs=1, max_extra_fixes=-100)
    fit = fit_stage(staged_ckpt, reviewed, never, seed=3)
    assert not fit.adapted and fit.metrics["blend"] is None
    assert set(fit.metrics["check_fixes"]) == {"before", "1", "0.5"}  # every share was tried
    assert fit.checkpoint["context"] is staged_ckpt["context"]
    assert "read the generated check pages worse" in fit.describe()


def test_the_check_counts_the_fixes_a_person_would_make(staged_ckpt, reviewed):
    from digitpad.progress import null_sink
    from digitpad.retrain.stage import _Budget, _fixes
    from digitpad.segment import segment

    # a stage that reads every box as "not a digit" needs every digit added back
    blind = {**staged_ckpt["context"], "state_dict": dict(staged_ckpt["context"]["state_dict"])}
    bias = blind["state_dict"]["mlp.4.bias"].clone()
    bias[:10] = -1e4
    blind["state_dict"]["mlp.4.bias"] = bias
    with tempfile.TemporaryDirectory() as tmp:
        budget = _Budget(float("inf"), null_sink, lambda: False)
        segmented = [(page, segment(page.image)) for page in reviewed]
        n = _fixes({**staged_ckpt, "context": blind}, segmented, Path(tmp), budget)
    assert n == sum(len(p.digits) for p in reviewed)


def test_no_reviewed_pages_leave_the_stage_as_it_was(staged_ckpt):
    fit = fit_stage(staged_ckpt, [], TINY, seed=3)
    assert not fit.adapted and fit.metrics["rows_person"] == 0
    assert fit.checkpoint["context"] is staged_ckpt["context"]


def test_the_same_seed_fits_the_same_stage(staged_ckpt, reviewed):
    a = fit_stage(staged_ckpt, reviewed, TINY, seed=5).checkpoint["context"]["state_dict"]
    b = fit_stage(staged_ckpt, reviewed, TINY, seed=5).checkpoint["context"]["state_dict"]
    assert _same(a, b)


@pytest.mark.parametrize("calls", [1, 3, 9])
def test_a_cancel_stops_the_fit_wherever_it_is(staged_ckpt, reviewed, calls):
    # 1: before the person's pages, 3: among the replay pages, 9: while checking
    seen = []

    def stop() -> bool:
        seen.append(1)
        return len(seen) >= calls

    config = StageConfig(pages=40, check_pages=25, epochs=1, max_extra_fixes=100)
    with pytest.raises(Cancelled):
        fit_stage(staged_ckpt, reviewed, config, seed=3, should_stop=stop)
    assert len(seen) == calls


def test_a_fit_past_its_time_limit_keeps_the_old_stage(staged_ckpt, reviewed):
    late = StageConfig(pages=4, check_pages=3, epochs=1, max_extra_fixes=100, max_seconds=0.0)
    fit = fit_stage(staged_ckpt, reviewed, late, seed=3)
    assert not fit.adapted and fit.metrics["timed_out"]
    assert fit.checkpoint["context"] is staged_ckpt["context"]
    assert "passed its 0 s limit" in fit.describe()


def test_only_the_most_recent_reviewed_pages_are_read(staged_ckpt, reviewed):
    one = StageConfig(pages=4, check_pages=3, epochs=1, max_extra_fixes=100, max_person_pages=1)
    fit = fit_stage(staged_ckpt, reviewed, one, seed=3)
    assert fit.metrics["person_pages"] == 1
    assert fit.checkpoint["context"]["metrics"]["fitted"]["pages"] == 1


def test_a_checkpoint_without_a_stage_is_refused(staged_ckpt, reviewed):
    bare = {k: v for k, v in staged_ckpt.items() if k != "context"}
    with pytest.raises(ValueError, match="no context stage"):
        fit_stage(bare, reviewed, TINY, seed=3)


def test_reviewed_pages_carry_their_digits_as_truth(reviewed):
    page = reviewed[0]
    samples = [
        TrainingSample("p1", page.image, a.box, a.label, 1, "loaded") for a in page.digits
    ] + [TrainingSample("p1", page.image, Box(0, 0, 9, 9), NOT_DIGIT, 1, "loaded")]
    corr = load_corrections(samples)
    assert len(corr.truth) == 1 and corr.truth[0].image is page.image
    assert [(a.box, a.label) for a in corr.truth[0].annotations] == [
        (a.box, a.label) for a in page.digits
    ]
    assert np.all(corr.y[:-1] < 10) and corr.y[-1] == 10


def test_imported_pages_are_no_truth_for_the_stage(reviewed):
    page = reviewed[0]
    samples = [TrainingSample("p1", page.image, a.box, a.label, 1, "imported") for a in page.digits]
    corr = load_corrections(samples)
    assert len(corr.y) == len(page.digits) and corr.truth == ()
