"""CorrectionStore: migrations, save/read round trip, stats, training samples, pages."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest
from test_store_helpers import older_store, page, payload

from digitpad.errors import StoreError, StoreVersionError
from digitpad.store import CorrectionStore, format_stats
from digitpad.store import schema as store_schema
from digitpad.store.stats import TALLY_SQL
from digitpad.types import NOT_DIGIT, Box, BoxOutcome


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_fresh_store_is_migrated_and_uses_wal(home):
    with CorrectionStore.open(home) as store:
        assert store.path == home.root / "corrections" / "digitpad.sqlite"
        assert store.integrity_check() == "ok"
    assert {"pages", "reviews", "boxes", "schema_migrations"} <= _tables(home.store_path)
    with sqlite3.connect(home.store_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == [m[0] for m in store_schema.MIGRATIONS]


def test_reopen_keeps_data_and_applies_nothing_twice(home):
    with CorrectionStore.open(home) as store:
        rid = store.save_review(payload(1))
    with CorrectionStore.open(home) as store:
        assert store.review_ids() == [rid]
    with sqlite3.connect(home.store_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(
            store_schema.MIGRATIONS
        )


def test_newer_store_is_refused_and_left_untouched(home):
    with CorrectionStore.open(home) as store:
        store.save_review(payload(1))
    with sqlite3.connect(home.store_path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', 0)", (99,))
    before = home.store_path.read_bytes()
    with pytest.raises(StoreVersionError, match=r"newer digitpad \(store schema 99"):
        CorrectionStore.open(home)
    assert home.store_path.read_bytes() == before


def test_not_a_store_gives_one_clear_line(home):
    home.store_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a digitpad correction store"):
        CorrectionStore.open(home)


def test_save_and_read_back_round_trip(home):
    p = payload(7)
    with CorrectionStore.open(home) as store:
        rid = store.save_review(p)
        samples = list(store.training_samples())
        assert np.array_equal(store.page_image(samples[0].page_hash), p.image)
    assert [(s.box, s.label) for s in samples] == [
        (b.box, NOT_DIGIT if b.outcome == "deleted" else b.final_label) for b in p.boxes
    ]
    assert {s.review_id for s in samples} == {rid}
    assert {s.source for s in samples} == {"drawn"}
    with sqlite3.connect(home.store_path) as conn:
        row = conn.execute(
            "SELECT predicted_label, confidence, alternatives, outcome, pred_x0, pred_y1 "
            "FROM boxes WHERE outcome = 'accepted'"
        ).fetchone()
        review = conn.execute("SELECT model_version, started_at, saved_at FROM reviews").fetchone()
    assert row == ("3", 0.97, '[["8", 0.02]]', "accepted", 2, 20)
    assert review == ("v1", p.started_at, p.saved_at)


def test_same_page_is_stored_once(home):
    with CorrectionStore.open(home) as store:
        store.save_review(payload(3))
        store.save_review(payload(3, model="v2"))
        files = list(store.pages.root.rglob("*.png"))
        assert store.stats().pages == 1 and store.stats().reviews == 2
    assert len(files) == 1


def test_training_samples_use_the_latest_review_of_a_page(home):
    later = (BoxOutcome(Box(1, 1, 9, 9), "4", "added"),)
    with CorrectionStore.open(home) as store:
        store.save_review(payload(3))
        rid = store.save_review(payload(3, later, model="v2"))
        samples = list(store.training_samples())
    assert [(s.box, s.label, s.review_id) for s in samples] == [(Box(1, 1, 9, 9), "4", rid)]
    assert not samples[0].image.flags.writeable


def test_deleted_false_positives_become_negatives(home):
    with CorrectionStore.open(home) as store:
        store.save_review(payload(1))
        labels = [s.label for s in store.training_samples()]
    assert labels.count(NOT_DIGIT) == 1
    assert sorted(labels) == sorted(["3", "5", "1", NOT_DIGIT, "9"])


def test_stats_overall_last_per_model_per_digit_confusion(home):
    with CorrectionStore.open(home) as store:
        for seed in range(3):
            store.save_review(payload(seed, model="v1"))
        ok = tuple(
            BoxOutcome(
                Box(i * 6, 0, i * 6 + 5, 9), "2", "accepted", Box(i * 6, 0, i * 6 + 5, 9), "2", 0.99
            )
            for i in range(8)
        )
        store.save_review(payload(10, ok, model="v2"))
        stats = store.stats(last=10)
    # Each default payload: 5 counted boxes, 2 right (accepted 3, small move of 1).
    assert (stats.overall.correct, stats.overall.total) == (3 * 2 + 8, 3 * 5 + 8)
    assert (stats.per_model["v1"].correct, stats.per_model["v1"].total) == (6, 15)
    assert stats.per_model["v2"].accuracy == 1.0
    assert list(stats.per_model) == ["v1", "v2"]
    # The last 10 boxes: 8 right v2 boxes and the last two of the third v1 review (both wrong).
    assert (stats.last.correct, stats.last.total) == (8, 10)
    assert (stats.per_digit["9"].correct, stats.per_digit["9"].total) == (0, 3)  # missed 9s
    assert (stats.per_digit["2"].correct, stats.per_digit["2"].total) == (8, 8)
    assert stats.confusion["6"]["5"] == 3
    assert stats.confusion["7"][NOT_DIGIT] == 3
    assert stats.confusion["missed"]["9"] == 3
    assert stats.outcomes == {"accepted": 11, "relabelled": 3, "moved": 3, "deleted": 3, "added": 3}
    assert stats.reviewed_boxes == 23 and stats.reviews == 4 and stats.boxes == 23
    assert stats.status_line("v2") == "Model v2 · 80.0% on last 10 · 23 digits reviewed"
    data = stats.to_dict()
    assert data["per_model"]["v1"] == {"correct": 6, "total": 15, "accuracy": 0.4}
    assert "missed" in format_stats(stats)


def test_empty_store_stats_have_no_accuracy(home):
    with CorrectionStore.open(home) as store:
        stats = store.stats()
    assert stats.overall.accuracy is None and stats.last.total == 0 and stats.latest_model is None
    assert "n/a" in stats.status_line("v1")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"source": "scanned"}, "page source"),
        ({"boxes": (BoxOutcome(Box(1, 1, 5, 5), "x", "added"),)}, "unknown label"),
        ({"boxes": (BoxOutcome(Box(1, 1, 5, 5), "1", "kept"),)}, "unknown outcome"),
        ({"boxes": (BoxOutcome(Box(90, 90, 99, 99), "1", "added"),)}, "outside the page"),
    ],
)
def test_invalid_payload_is_refused_and_nothing_saved(home, change, needle):
    import dataclasses

    bad = dataclasses.replace(payload(1), **change)
    with CorrectionStore.open(home) as store:
        with pytest.raises(StoreError, match=needle):
            store.save_review(bad)
        assert store.review_ids() == []


def test_damaged_page_file_is_reported(home):
    with CorrectionStore.open(home) as store:
        store.save_review(payload(1))
        (path,) = store.pages.root.rglob("*.png")
        from PIL import Image

        Image.fromarray(page(2)).save(path)
        with pytest.raises(StoreError, match="damaged"):
            list(store.training_samples())
        path.unlink()
        with pytest.raises(StoreError, match="missing"):
            list(store.training_samples())


def test_closed_store_refuses(home):
    store = CorrectionStore.open(home)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.stats()


def test_threads_share_one_store(home):
    errors: list[BaseException] = []
    with CorrectionStore.open(home) as store:

        def work(offset: int) -> None:
            try:
                for i in range(10):
                    store.save_review(payload(offset + i))
                    store.stats()
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k * 100,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(store.review_ids()) == 30


def test_a_version_1_store_is_upgraded_in_place(home, monkeypatch):
    with older_store(monkeypatch, home.store_path, 1), CorrectionStore.open(home) as store:
        rid = store.save_review(payload(1))
    with CorrectionStore.open(home) as store:
        assert store.review_ids() == [rid]
        assert store.stats().overall.total == 5
    with sqlite3.connect(home.store_path) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert versions == [m[0] for m in store_schema.MIGRATIONS] == [1, 2, 3, 4]
    assert {"boxes_tally", "boxes_review_tally"} <= indexes and "boxes_review" not in indexes
    assert {"reviews_session", "pages_pixels"} <= indexes


def test_stats_use_covering_indexes(home):
    with CorrectionStore.open(home) as store:
        store.save_review(payload(1))
    with sqlite3.connect(home.store_path) as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {TALLY_SQL}").fetchall()
    assert "COVERING INDEX boxes_tally" in str(plan) and "TEMP B-TREE" not in str(plan)


def test_review_tallies_give_accuracy_over_time(home, tmp_path):
    with CorrectionStore.open(home) as store:
        first = store.save_review(payload(1, model="v1"))
        store.save_review(payload(2, (BoxOutcome(Box(1, 1, 5, 5), NOT_DIGIT, "added"),)))
        last = store.save_review(payload(3, model="v2"))
        tallies = store.review_tallies()
    assert [(t.review_id, t.model_version) for t in tallies] == [(first, "v1"), (last, "v2")]
    assert [(t.counts.correct, t.counts.total) for t in tallies] == [(2, 5), (2, 5)]
    assert tallies[0].saved_at <= tallies[1].saved_at


def test_a_page_that_cannot_be_read_is_left_out_of_training_when_asked(home):
    with CorrectionStore.open(home) as store:
        store.save_review(payload(1))
        store.save_review(payload(2))
        first = store.page_truths()[0].page_hash
        store.pages.path_for(first).unlink()
        with pytest.raises(StoreError, match="is missing"):
            list(store.training_samples())
        said: list[str] = []
        samples = list(store.training_samples(on_unreadable=said.append))
        assert len(samples) == 5 and {s.page_hash for s in samples} != {first}
        assert len(said) == 1 and said[0].endswith(
            f"is missing from {store.pages.root}: its boxes are left out"
        )
        assert store.stats().boxes == 10  # nothing removed from the store
