"""The promotion gate: every branch, with hand-built predictions (no training)."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.retrain.gate import GateRules, Scores, decide, failures, score


def scores(heldout=0.9, regression=0.98, digits=None, heldout_n=50) -> Scores:
    per = {str(d): 0.97 for d in range(10)}
    per.update(digits or {})
    return Scores(heldout, heldout_n if heldout is not None else 0, regression, 2000, per)


def test_score_counts_accuracy_per_set_and_per_digit_pooled():
    yh, ph = [4, 4, 7, 10], [4, 9, 7, 10]
    yr, pr = [4, 4, 1, 10], [4, 4, 1, 3]
    s = score(yh, ph, yr, pr)
    assert s.heldout_acc == pytest.approx(0.75) and s.heldout_n == 4
    assert s.regression_acc == pytest.approx(0.75) and s.regression_n == 4
    # digit 4 over both sets: 3 right of 4; not_digit (10) is not a digit
    assert s.per_digit == {"1": 1.0, "4": 0.75, "7": 1.0}
    assert s.per_digit_n == {"1": 1, "4": 4, "7": 1}
    assert score([], [], [1], [1]).heldout_acc is None
    with pytest.raises(ValueError):
        score([1], [], [1], [1])
    with pytest.raises(ValueError):
        score([], [], [], [])


def test_equal_or_better_model_is_promoted():
    d = decide(scores(0.95, 0.981), scores(0.9, 0.98), version="v3", active_version="v2")
    assert d.promote and not d.failures and not d.forced
    assert d.message.startswith("promoted v3 over v2: held-out 90.0% -> 95.0%")
    assert decide(scores(), scores(), version="v3", active_version="v2").promote


def test_heldout_must_not_fall():
    d = decide(scores(0.88), scores(0.9), version="v3", active_version="v2")
    assert not d.promote
    assert d.message.startswith("not promoted: held-out accuracy fell from 90.0% to 88.0%")
    assert "v2 stays active" in d.message


def test_regression_may_drop_half_a_point_not_more():
    active = scores(regression=0.980)
    ok = decide(scores(regression=0.975), active, version="v3", active_version="v2")
    assert ok.promote  # exactly 0.5 point
    bad = decide(scores(regression=0.9749), active, version="v3", active_version="v2")
    assert not bad.promote
    assert "regression set fell from 98.0% to 97.5%" in bad.message


def test_no_digit_may_drop_more_than_two_points():
    active = scores(digits={"4": 0.971, "7": 0.99})
    ok = scores(digits={"4": 0.951, "7": 0.99})  # exactly 2 points
    assert decide(ok, active, version="v3", active_version="v2").promote
    cand = scores(digits={"4": 0.930, "7": 0.95})
    d = decide(cand, active, version="v3", active_version="v2")
    assert not d.promote
    # the worst drop first, in the words
    assert d.message.startswith("not promoted: digit 4 fell from 97.1% to 93.0%; digit 7 fell")
    assert d.failures == ("digit 4 fell from 97.1% to 93.0%", "digit 7 fell from 99.0% to 95.0%")


def test_force_promotes_and_says_what_it_overrode():
    d = decide(scores(0.5, 0.5), scores(0.9, 0.98), version="v3", active_version="v2", force=True)
    assert d.promote and d.forced and len(d.failures) >= 2
    assert "(forced) although held-out accuracy fell" in d.message


def test_missing_heldout_skips_that_rule_only():
    cand, active = scores(None, 0.98), scores(None, 0.98)
    d = decide(cand, active, version="v3", active_version="v2")
    assert d.promote and "held-out" not in d.message
    assert not decide(scores(None, 0.90), active, version="v3", active_version="v2").promote


def test_custom_rules_and_digit_absent_from_candidate():
    active = scores(digits={"4": 0.97})
    cand = Scores(0.9, 50, 0.98, 2000, {"0": 0.97})  # no 4s scored: nothing to compare
    assert failures(cand, active) == []
    strict = GateRules(max_regression_drop=0.0)
    assert failures(scores(regression=0.979), scores(regression=0.98), strict)


def test_scores_as_metrics_is_json_ready():
    import json

    m = score([1], [1], np.array([2, 3]), np.array([2, 2])).as_metrics()
    assert json.loads(json.dumps(m))["regression_acc"] == 0.5
