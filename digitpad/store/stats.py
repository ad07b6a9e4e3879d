"""Live-accuracy statistics over the store, computed in SQL (GROUP BY), not Python loops.

Which boxes count and which are right is decided once per box by :mod:`digitpad.accuracy` when it
is saved (columns ``counted`` and ``correct``); here we only add those columns up. Per digit is by
the *final* label (the truth): "of the 4s people wrote, how many did the model get right", so a
missed 4 counts against digit 4. Deleted false positives (final not_digit) count overall but not
for any digit. The confusion matrix is predicted label (rows, plus "missed" for added boxes) x
final label (columns, "not_digit" for deleted predictions).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from digitpad.accuracy import AccuracyCounts, format_accuracy
from digitpad.types import CLASSES, DIGITS, NOT_DIGIT

MISSED = "missed"
CONFUSION_ROWS: tuple[str, ...] = (*CLASSES, MISSED)
CONFUSION_COLS: tuple[str, ...] = CLASSES
# Counted boxes grouped by (predicted, final, outcome): confusion, per digit, overall, outcomes.
TALLY_SQL = (
    "SELECT predicted_label, final_label, outcome, COUNT(*), SUM(correct) FROM boxes "
    "WHERE counted = 1 GROUP BY predicted_label, final_label, outcome"
)


@dataclass(frozen=True)
class Stats:
    """Everything ``digitpad stats`` and the app's status bar and stats window show."""

    pages: int
    reviews: int  # saves by a person in the app
    imports: int  # pages that came in through `digitpad import`
    boxes: int  # every stored box, imported ones included
    reviewed_boxes: int  # boxes that count for live accuracy
    imported_boxes: int
    overall: AccuracyCounts
    last: AccuracyCounts
    last_n: int
    per_model: dict[str, AccuracyCounts]
    per_digit: dict[str, AccuracyCounts]
    confusion: dict[str, dict[str, int]]
    outcomes: dict[str, int]
    latest_model: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def status_line(self, model_version: str | None = None) -> str:
        """``"Model v3 · 96.8% on last 100 · 1,240 digits reviewed"`` for the app's status bar."""
        model = model_version or self.latest_model or "?"
        last = f"{format_accuracy(self.last.accuracy)} on last {self.last.total:,}"
        return f"Model {model} · {last} · {self.reviewed_boxes:,} digits reviewed"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``digitpad stats --json``)."""
        return {
            "pages": self.pages,
            "reviews": self.reviews,
            "imports": self.imports,
            "boxes": self.boxes,
            "reviewed_boxes": self.reviewed_boxes,
            "imported_boxes": self.imported_boxes,
            "overall": self.overall.to_dict(),
            "last": {**self.last.to_dict(), "n": self.last_n},
            "per_model": {k: v.to_dict() for k, v in self.per_model.items()},
            "per_digit": {k: v.to_dict() for k, v in self.per_digit.items()},
            "confusion": {
                "rows": list(CONFUSION_ROWS),
                "cols": list(CONFUSION_COLS),
                "counts": self.confusion,
            },
            "outcomes": self.outcomes,
            "latest_model": self.latest_model,
        }


def compute_stats(conn: sqlite3.Connection, last: int) -> Stats:
    """Stats over the store; call inside one read transaction for a consistent snapshot."""
    confusion = {row: dict.fromkeys(CONFUSION_COLS, 0) for row in CONFUSION_ROWS}
    digit_counts = {d: [0, 0] for d in DIGITS}
    outcomes: dict[str, int] = {}
    correct_all = total_all = 0
    # One scan: counted boxes grouped by (predicted, final, outcome).
    for pred, final, outcome, n, n_correct in conn.execute(TALLY_SQL):
        row = MISSED if pred is None else pred
        if row in confusion and final in confusion[row]:
            confusion[row][final] += n
        outcomes[outcome] = outcomes.get(outcome, 0) + n
        total_all += n
        correct_all += n_correct
        if final in digit_counts:
            digit_counts[final][0] += n_correct
            digit_counts[final][1] += n
    per_model, boxes, imported, reviewed = _per_model(conn)
    return Stats(
        pages=_scalar(conn, "SELECT COUNT(*) FROM pages"),
        reviews=_scalar(conn, "SELECT COUNT(*) FROM reviews WHERE kind = 'review'"),
        imports=_scalar(conn, "SELECT COUNT(*) FROM reviews WHERE kind = 'import'"),
        boxes=boxes,
        reviewed_boxes=reviewed,
        imported_boxes=imported,
        overall=AccuracyCounts(correct_all, total_all),
        last=_last(conn, last),
        last_n=last,
        per_model=per_model,
        per_digit={d: AccuracyCounts(c, t) for d, (c, t) in digit_counts.items()},
        confusion=confusion,
        outcomes=outcomes,
        latest_model=_latest_model(conn),
    )


def _per_model(conn: sqlite3.Connection) -> tuple[dict[str, AccuracyCounts], int, int, int]:
    """(accuracy per model version, all boxes, imported boxes, counted boxes).

    Boxes are summed per review first (using the review index), then per model: far fewer
    rows to join than joining every box to its review.
    """
    per_model: dict[str, AccuracyCounts] = {}
    boxes = imported = reviewed = 0
    for kind, version, n, n_counted, n_correct in conn.execute(
        "SELECT r.kind, r.model_version, SUM(b.n), SUM(b.n_counted), SUM(b.n_correct) "
        "FROM (SELECT review_id, COUNT(*) AS n, SUM(counted) AS n_counted, "
        "      SUM(correct) AS n_correct FROM boxes GROUP BY review_id) AS b "
        "JOIN reviews AS r ON r.id = b.review_id GROUP BY r.kind, r.model_version"
    ):
        boxes += n
        if kind == "import":
            imported += n
            continue
        reviewed += n_counted
        if n_counted:
            key = version or "?"
            per_model[key] = per_model.get(key, AccuracyCounts()) + AccuracyCounts(
                n_correct, n_counted
            )
    ordered = dict(sorted(per_model.items(), key=lambda kv: _version_key(kv[0])))
    return ordered, boxes, imported, reviewed


def _version_key(version: str) -> tuple[int, str]:
    digits = version.lstrip("v")
    return (int(digits), version) if digits.isdigit() else (1 << 30, version)


def _last(conn: sqlite3.Connection, n: int) -> AccuracyCounts:
    row = conn.execute(
        "SELECT COALESCE(SUM(correct), 0), COUNT(*) FROM "
        "(SELECT correct FROM boxes WHERE counted = 1 ORDER BY id DESC LIMIT ?)",
        (max(0, n),),
    ).fetchone()
    return AccuracyCounts(int(row[0]), int(row[1]))


def _latest_model(conn: sqlite3.Connection) -> str | None:
    row = conn.execute(
        "SELECT model_version FROM reviews WHERE kind = 'review' "
        "ORDER BY saved_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def _scalar(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def format_stats(stats: Stats) -> str:
    """A readable text report: summary, per model, per digit and the confusion matrix."""
    lines = [
        f"pages {stats.pages:,} · reviews {stats.reviews:,} · imported pages {stats.imports:,}",
        f"boxes {stats.boxes:,} (reviewed {stats.reviewed_boxes:,}, imported "
        f"{stats.imported_boxes:,})",
        f"live accuracy: {_acc(stats.overall)} overall, {_acc(stats.last)} on the last "
        f"{stats.last_n}",
        "",
        "per model:",
    ]
    lines += [f"  {v:>6}  {_acc(c)}" for v, c in stats.per_model.items()] or ["  (no reviews)"]
    lines += ["", "per digit (by the corrected label):"]
    lines += [f"  {d:>6}  {_acc(c)}" for d, c in stats.per_digit.items()]
    lines += ["", "confusion (rows: predicted, columns: final):"]
    width = max(5, *(len(f"{v:,}") for r in stats.confusion.values() for v in r.values()))
    header = " " * 10 + "".join(f"{_short(c):>{width + 1}}" for c in CONFUSION_COLS)
    lines.append(header)
    for row in CONFUSION_ROWS:
        counts = stats.confusion[row]
        if row == NOT_DIGIT and not any(counts.values()):
            continue  # the app shows no not_digit predictions; skip the all-zero row
        cells = "".join(f"{counts[c]:>{width + 1},}" for c in CONFUSION_COLS)
        lines.append(f"{_short(row):>10}{cells}")
    return "\n".join(lines)


def _acc(c: AccuracyCounts) -> str:
    return f"{format_accuracy(c.accuracy):>6} ({c.correct:,}/{c.total:,})"


def _short(label: str) -> str:
    return {NOT_DIGIT: "not", MISSED: "missed"}.get(label, label)
