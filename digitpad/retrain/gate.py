"""The promotion gate: a retrained model replaces the active one only if it is no worse.

Pure functions over labels and predictions (class indices, 10 = not a digit), so every branch is
unit-tested without training anything. Both models are scored on the *same* samples:

- the held-out corrections (the person's own writing, never trained on),
- the fixed seeded synthetic regression set (what the shipped model could read),
- per digit, over both sets pooled (so a digit the model "forgets" is caught even when the
  overall numbers hold).

Rules (``GateRules``): held-out accuracy must not fall; the regression set may drop at most 0.5
point; no digit may drop more than 2 points. ``force`` promotes anyway and says what it overrode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from digitpad.types import DIGITS

_EPS = 1e-9  # accuracies are ratios of counts; this only absorbs float rounding


@dataclass(frozen=True)
class Scores:
    """One model's accuracies. ``heldout_acc`` is None when there is no held-out set."""

    heldout_acc: float | None
    heldout_n: int
    regression_acc: float
    regression_n: int
    per_digit: dict[str, float] = field(default_factory=dict)
    per_digit_n: dict[str, int] = field(default_factory=dict)

    def as_metrics(self) -> dict[str, object]:
        """A JSON-ready dict for the registry."""
        return {
            "heldout_acc": None if self.heldout_acc is None else round(self.heldout_acc, 6),
            "heldout_n": self.heldout_n,
            "regression_acc": round(self.regression_acc, 6),
            "regression_n": self.regression_n,
            "per_digit": {k: round(v, 6) for k, v in self.per_digit.items()},
        }


@dataclass(frozen=True)
class GateRules:
    """Thresholds, in accuracy fractions (0.005 = 0.5 point)."""

    max_heldout_drop: float = 0.0
    max_regression_drop: float = 0.005
    max_digit_drop: float = 0.02


@dataclass(frozen=True)
class GateDecision:
    """Whether to promote, every rule that failed (worst first), and the sentence to show."""

    promote: bool
    failures: tuple[str, ...]
    message: str
    forced: bool = False


def _accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(y == pred)) if y.size else 0.0


def score(
    y_heldout: Sequence[int] | np.ndarray,
    pred_heldout: Sequence[int] | np.ndarray,
    y_regression: Sequence[int] | np.ndarray,
    pred_regression: Sequence[int] | np.ndarray,
) -> Scores:
    """Scores of one model from its predicted class indices on the two evaluation sets.

    Raises:
        ValueError: labels and predictions differ in length, or the regression set is empty.
    """
    yh, ph = np.asarray(y_heldout, np.int64), np.asarray(pred_heldout, np.int64)
    yr, pr = np.asarray(y_regression, np.int64), np.asarray(pred_regression, np.int64)
    if yh.shape != ph.shape or yr.shape != pr.shape:
        raise ValueError("labels and predictions must have the same length")
    if yr.size == 0:
        raise ValueError("the regression set is empty")
    y_all, p_all = np.concatenate([yh, yr]), np.concatenate([ph, pr])
    per_digit: dict[str, float] = {}
    per_digit_n: dict[str, int] = {}
    for k, digit in enumerate(DIGITS):
        mask = y_all == k
        if mask.any():
            per_digit[digit] = _accuracy(y_all[mask], p_all[mask])
            per_digit_n[digit] = int(mask.sum())
    return Scores(
        heldout_acc=_accuracy(yh, ph) if yh.size else None,
        heldout_n=int(yh.size),
        regression_acc=_accuracy(yr, pr),
        regression_n=int(yr.size),
        per_digit=per_digit,
        per_digit_n=per_digit_n,
    )


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f}%"


def failures(candidate: Scores, active: Scores, rules: GateRules = GateRules()) -> list[str]:
    """Every rule the candidate breaks against the active model, worst digit drop first.

    Each item is a clause such as "digit 4 fell from 97.1% to 93.0%".
    """
    out: list[str] = []
    ch, ah = candidate.heldout_acc, active.heldout_acc
    if ch is not None and ah is not None and ch < ah - rules.max_heldout_drop - _EPS:
        out.append(f"held-out accuracy fell from {_pct(ah)} to {_pct(ch)}")
    if candidate.regression_acc < active.regression_acc - rules.max_regression_drop - _EPS:
        out.append(
            f"regression set fell from {_pct(active.regression_acc)} "
            f"to {_pct(candidate.regression_acc)}"
        )
    drops = []
    for digit, before in active.per_digit.items():
        after = candidate.per_digit.get(digit)
        if after is not None and after < before - rules.max_digit_drop - _EPS:
            drops.append((before - after, digit, before, after))
    for _, digit, before, after in sorted(drops, reverse=True):
        out.append(f"digit {digit} fell from {_pct(before)} to {_pct(after)}")
    return out


def _summary(candidate: Scores, active: Scores) -> str:
    parts = []
    if candidate.heldout_acc is not None and active.heldout_acc is not None:
        parts.append(
            f"held-out {_pct(active.heldout_acc)} -> {_pct(candidate.heldout_acc)} "
            f"({candidate.heldout_n} corrections)"
        )
    parts.append(f"regression {_pct(active.regression_acc)} -> {_pct(candidate.regression_acc)}")
    return ", ".join(parts)


def decide(
    candidate: Scores,
    active: Scores,
    *,
    version: str,
    active_version: str,
    force: bool = False,
    rules: GateRules = GateRules(),
) -> GateDecision:
    """Apply the gate. The message is one sentence for people, e.g.
    "not promoted: digit 4 fell from 97.1% to 93.0%" or
    "promoted v3 over v2: held-out 91.0% -> 96.0% (40 corrections), regression 98.2% -> 98.1%".
    """
    failed = tuple(failures(candidate, active, rules))
    summary = _summary(candidate, active)
    if not failed:
        return GateDecision(True, (), f"promoted {version} over {active_version}: {summary}")
    if force:
        return GateDecision(
            True,
            failed,
            f"promoted {version} over {active_version} (forced) although "
            + "; ".join(failed)
            + f": {summary}",
            forced=True,
        )
    return GateDecision(
        False,
        failed,
        f"not promoted: {'; '.join(failed)} ({version} kept as a candidate; "
        f"{active_version} stays active)",
    )
