"""Saving the same review session again replaces the earlier save (it never counts twice), and
the accuracy timeline the stats window draws."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from test_store_helpers import older_store, payload

from digitpad.errors import StoreError
from digitpad.store import CorrectionStore, queries, rows
from digitpad.types import NOT_DIGIT, Box, BoxOutcome

RELABELLED = Box(20, 2, 30, 20)  # payload()'s second box: predicted "6", relabelled to "5"


def _accept_the_six(first):
    """The same review after one more edit: the person puts the "6" back."""
    boxes = list(first.boxes)
    boxes[1] = BoxOutcome(RELABELLED, "6", "accepted", RELABELLED, "6", 0.55)
    return dataclasses.replace(first, boxes=tuple(boxes), saved_at=first.saved_at + 30)


def test_saving_a_session_again_replaces_the_earlier_save(home):
    first = payload(1)
    with CorrectionStore.open(home) as store:
        one = store.save(first)
        two = store.save(_accept_the_six(first))
        stats = store.stats()
        samples = list(store.training_samples())
        assert store.review_ids() == [one.review_id]
        assert store.integrity_check() == "ok"
    assert not one.replaced and two.replaced and two.review_id == one.review_id
    assert (stats.reviews, stats.pages, stats.reviewed_boxes) == (1, 1, 5)
    assert (stats.overall.correct, stats.overall.total) == (3, 5)  # counted once, latest labels
    assert (stats.per_model["v1"].correct, stats.per_model["v1"].total) == (3, 5)
    assert (stats.last.correct, stats.last.total) == (3, 5)
    assert stats.confusion["6"]["6"] == 1 and stats.confusion["6"]["5"] == 0
    assert sorted(s.label for s in samples) == sorted(["3", "6", "1", NOT_DIGIT, "9"])
    assert {s.review_id for s in samples} == {two.review_id}


def test_a_new_recognition_or_another_page_is_a_new_review(home):
    first = payload(1)
    again = dataclasses.replace(first, started_at=first.started_at + 1)  # recognised again
    other_page = dataclasses.replace(payload(2), started_at=first.started_at)
    with CorrectionStore.open(home) as store:
        saved = [store.save(p) for p in (first, again, other_page)]
        stats = store.stats()
    assert [s.replaced for s in saved] == [False, False, False]
    assert len({s.review_id for s in saved}) == 3
    assert stats.reviews == 3 and stats.overall.total == 15


def test_resave_after_new_ink_replaces_the_review_named_by_the_app(home):
    first = payload(1)
    inked = first.image.copy()
    inked[30:40, 50:60] = 0  # the person drew more after saving: another page hash
    with CorrectionStore.open(home) as store:
        one = store.save(first)
        two = store.save(
            dataclasses.replace(_accept_the_six(first), image=inked), replaces=one.review_id
        )
        stats = store.stats()
        samples = list(store.training_samples())
        truths = store.page_truths()
    assert two.replaced and two.review_id == one.review_id
    assert (stats.reviews, stats.pages, stats.overall.correct, stats.overall.total) == (1, 1, 3, 5)
    assert len(truths) == 1 and (samples[0].image == inked).all()  # the page as saved last


def test_a_review_saved_again_on_more_ink_keeps_its_place_among_the_samples(home):
    # The retrain's held-out split keeps a label's first correction for training: which one
    # is first must not change when an earlier review is saved again on a page with more ink.
    first, second = payload(1), payload(2)
    inked = first.image.copy()
    inked[30:40, 50:60] = 0
    with CorrectionStore.open(home) as store:
        one = store.save(first)
        two = store.save(second)
        store.save(dataclasses.replace(first, image=inked), replaces=one.review_id)
        order = [s.review_id for s in store.training_samples()]
    assert order == [one.review_id] * 5 + [two.review_id] * 5


def test_the_old_page_stays_while_another_review_uses_it(home):
    older = payload(1)
    later = dataclasses.replace(older, started_at=older.started_at + 60)  # recognised again
    inked = later.image.copy()
    inked[30:40, 50:60] = 0
    with CorrectionStore.open(home) as store:
        store.save(older)
        rid = store.save_review(later)
        store.save(dataclasses.replace(later, image=inked), replaces=rid)
        stats = store.stats()
        assert {t.page_hash for t in store.page_truths()} == {
            store.pages.put_array(older.image)[0],
            store.pages.put_array(inked)[0],
        }
    assert (stats.reviews, stats.pages) == (2, 2)


def test_replaces_must_name_a_save_of_the_same_session(home):
    first, other = payload(1), payload(2)
    with CorrectionStore.open(home) as store:
        one = store.save(first)
        with pytest.raises(StoreError, match=f"review #{one.review_id} is not an earlier save"):
            store.save(other, replaces=one.review_id)
        assert store.review_ids() == [one.review_id]
        gone = store.save(other, replaces=one.review_id + 99)  # no such review: a new one
        assert not gone.replaced and store.stats().reviews == 2


def test_a_failed_resave_keeps_the_earlier_save(home, monkeypatch):
    first = payload(1)
    with CorrectionStore.open(home) as store:
        rid = store.save_review(first)
        # Fail after the earlier save's boxes were deleted, while writing the new ones.
        monkeypatch.setattr(rows, "INSERT_BOX", "INSERT INTO boxes (no_such_column) VALUES (?)")
        with pytest.raises(StoreError, match="no_such_column"):
            store.save(_accept_the_six(first))
        monkeypatch.undo()
        assert store.review_ids() == [rid]  # rolled back: the earlier save is whole
        stats = store.stats()
        assert (stats.overall.correct, stats.overall.total, stats.boxes) == (2, 5, 5)


def test_the_schema_refuses_two_saves_of_one_session(home):
    with CorrectionStore.open(home) as store:
        store.save_review(payload(1))
    with sqlite3.connect(home.store_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO reviews (page_id, kind, model_version, started_at, saved_at) "
            "SELECT page_id, kind, model_version, started_at, saved_at + 1 FROM reviews"
        )


def test_upgrading_keeps_only_the_latest_save_of_each_session(home, monkeypatch):
    # Build the store as digitpad did before migration 3: every save kept.
    first = payload(1)
    with older_store(monkeypatch, home.store_path, 2), CorrectionStore.open(home) as store:
        monkeypatch.setattr(queries, "reuse_earlier_save", lambda *args, **kwargs: None)
        store.save_review(first)
        latest = store.save_review(_accept_the_six(first))
        other = store.save_review(payload(2))
        assert store.stats().overall.total == 15  # the bug: one session counted twice
    monkeypatch.undo()
    with CorrectionStore.open(home) as store:
        assert store.review_ids() == [latest, other]
        stats = store.stats()
        assert store.integrity_check() == "ok"
    assert (stats.overall.correct, stats.overall.total) == (3 + 2, 10)
    assert stats.boxes == 10


def test_timeline_matches_the_status_bar_measure(home):
    eight_right = tuple(
        BoxOutcome(Box(i * 6, 0, i * 6 + 5, 9), "2", "accepted", Box(i * 6, 0, i * 6 + 5, 9), "2")
        for i in range(8)
    )
    with CorrectionStore.open(home) as store:
        assert store.timeline() == []
        a = store.save_review(payload(1, model="v1"))
        store.save_review(payload(2, (BoxOutcome(Box(1, 1, 5, 5), NOT_DIGIT, "added"),)))
        b = store.save_review(payload(3, model="v2"))
        c = store.save_review(payload(4, eight_right, model="v2"))
        points = store.timeline(last=6)
        assert points[-1].last == store.stats(last=6).last
        assert store.timeline()[-1].last == store.stats().last
        with pytest.raises(ValueError, match="at least one box"):
            store.timeline(last=0)
    # The review with nothing counted has no point; the rest come in save order.
    assert [(p.review_id, p.model_version) for p in points] == [(a, "v1"), (b, "v2"), (c, "v2")]
    assert [(p.review.correct, p.review.total) for p in points] == [(2, 5), (2, 5), (8, 8)]
    assert [(p.overall.correct, p.overall.total) for p in points] == [(2, 5), (4, 10), (12, 18)]
    # Last 6 after b: a's final box (a missed 9) and b's five boxes; after c: six right 2s.
    assert [(p.last.correct, p.last.total) for p in points] == [(2, 5), (2, 6), (6, 6)]
    assert points[0].saved_at <= points[1].saved_at <= points[2].saved_at
