"""A page is one page per pixels, however its file is encoded (store schema 4).

The same pixels reach the store as other bytes in everyday use: a dataset written by
`digitpad synth` (OpenCV's PNG encoder) is imported, then one of its files is opened in the app
and saved (PIL's encoder); a PNG with an EXIF rotation is stored as is by an import and as the
upright pixels by the app. Each is one page, whose latest review by a person is its truth.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from test_store_helpers import page

from digitpad.errors import ImportFormatError
from digitpad.formats import LabelledImage, write_coco
from digitpad.imageio import load_image
from digitpad.interop import export_dataset, import_dataset
from digitpad.store import CorrectionStore, schema
from digitpad.store.pages import encode_png, pixel_hash, sha256_hex
from digitpad.types import Annotation, Box, BoxOutcome, ReviewPayload

IMPORTED = (Annotation(Box(2, 2, 12, 20), "3"), Annotation(Box(20, 2, 30, 20), "5"))
REVIEWED = (
    BoxOutcome(Box(2, 2, 12, 20), "8", "relabelled", Box(2, 2, 12, 20), "3", 0.6),
    BoxOutcome(Box(20, 2, 30, 20), "5", "accepted", Box(20, 2, 30, 20), "5", 0.9),
)


def _cv2_png(path: Path, rgb: np.ndarray) -> Path:
    """``rgb`` written as `digitpad synth` writes pages: other bytes than PIL's for it."""
    assert cv2.imwrite(str(path), rgb[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return path


def _dataset(tmp_path: Path, name: str, images: list[tuple[str, np.ndarray]]) -> Path:
    folder = tmp_path / name / "images"
    folder.mkdir(parents=True)
    items = [
        LabelledImage(_cv2_png(folder / f, rgb), rgb.shape[1], rgb.shape[0], IMPORTED)
        for f, rgb in images
    ]
    return write_coco(items, tmp_path / name)


def _review(rgb: np.ndarray, boxes: tuple[BoxOutcome, ...] = REVIEWED) -> ReviewPayload:
    now = time.time()
    return ReviewPayload(rgb, "loaded", "v1", now - 3.0, now, boxes)


def _truths(store: CorrectionStore) -> list[list[tuple[tuple[int, ...], str]]]:
    return [sorted((a.box.as_tuple(), a.label) for a in t.annotations) for t in store.page_truths()]


def test_a_page_opened_from_an_imported_dataset_and_reviewed_is_one_page(home, tmp_path):
    src = _dataset(tmp_path, "synth", [("p.png", page(1))])
    opened = load_image(tmp_path / "synth" / "images" / "p.png")
    assert sha256_hex(encode_png(opened)) != sha256_hex((src.parent / "images/p.png").read_bytes())
    with CorrectionStore.open(home) as store:
        import_dataset(store, src, "coco")
        store.save(_review(opened))
        assert _truths(store) == [[((2, 2, 12, 20), "8"), ((20, 2, 30, 20), "5")]]
        samples = list(store.training_samples())
        assert sorted(s.label for s in samples) == ["5", "8"]
        # a person's review: its page teaches the retrain's context stage, as a page the
        # person opened in the app (an import may box only some digits, and does not)
        assert {s.source for s in samples} == {"loaded"}
        assert store.stats().pages == 1
        out = export_dataset(store, tmp_path / "out", "coco")
    assert [p.name for p in (out.path.parent / "images").iterdir()] == ["p.png"]


def test_an_import_of_a_reviewed_page_in_another_encoding_keeps_the_review(home, tmp_path):
    with CorrectionStore.open(home) as store:
        store.save(_review(page(2)))
        report = import_dataset(store, _dataset(tmp_path, "d", [("p.png", page(2))]), "coco")
        assert (report.pages_added, report.pages_skipped) == (0, 1)
        assert _truths(store) == [[((2, 2, 12, 20), "8"), ((20, 2, 30, 20), "5")]]
        assert store.stats().pages == 1


def test_an_exif_rotated_png_and_its_upright_pixels_are_one_page(home, tmp_path):
    upright = page(3, width=40, height=64)
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1)))  # 64 wide, 40 high
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90 degrees clockwise to view
    folder = tmp_path / "d" / "images"
    folder.mkdir(parents=True)
    stored.save(folder / "r.png", exif=exif)
    assert np.array_equal(load_image(folder / "r.png"), upright)
    src = write_coco([LabelledImage(folder / "r.png", 40, 64, IMPORTED)], tmp_path / "d")
    with CorrectionStore.open(home) as store:
        import_dataset(store, src, "coco")
        store.save(_review(upright))
        assert len(store.page_truths()) == 1


def test_the_same_pixels_twice_in_a_dataset_in_two_encodings(home, tmp_path):
    folder = tmp_path / "d" / "images"
    folder.mkdir(parents=True)
    Image.fromarray(page(4)).save(folder / "a.png")
    _cv2_png(folder / "b.png", page(4))
    same = [LabelledImage(folder / n, 64, 48, IMPORTED) for n in ("a.png", "b.png")]
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, write_coco(same, tmp_path / "d"), "coco")
        assert (report.pages_added, report.boxes_added) == (1, 2)
        assert len(list(store.pages.root.iterdir())) == 1  # the second encoding's file is gone
        other = [same[0], LabelledImage(folder / "b.png", 64, 48, IMPORTED[:1])]
        with pytest.raises(ImportFormatError, match=r"b\.png: the same image as a\.png"):
            import_dataset(store, write_coco(other, tmp_path / "e"), "coco")


def _v3_store(home, pages: list[bytes]) -> Path:
    """A store as digitpad wrote it before schema 4: ``pages`` as files, one import review each
    with IMPORTED, and the last one reviewed in the app as well (REVIEWED)."""
    path = home.store_path
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "pages").mkdir()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at REAL NOT NULL)"
    )
    for version, name, statements in schema.MIGRATIONS[:3]:
        for sql in statements:
            conn.execute(sql)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    for i, data in enumerate(pages):
        h = sha256_hex(data)
        (path.parent / "pages" / f"{h}.png").write_bytes(data)
        conn.execute("INSERT INTO pages VALUES (?, ?, 'imported', 64, 48, 0)", (i + 1, h))
        kind, labels = ("review", "83") if i == len(pages) - 1 else ("import", "35")
        conn.execute(
            "INSERT INTO reviews VALUES (?, ?, ?, ?, 1, ?, NULL)",
            (i + 1, i + 1, kind, "v1" if kind == "review" else None, 2 + i),
        )
        for k, label in enumerate(labels):
            conn.execute(
                "INSERT INTO boxes (review_id, x0, y0, x1, y1, final_label, deleted, outcome, "
                "counted, correct) VALUES (?, ?, 2, ?, 20, ?, 0, 'added', 0, 0)",
                (i + 1, 2 + 18 * k, 12 + 18 * k, label),
            )
    conn.close()
    return path


def test_upgrading_a_store_joins_the_pages_that_hold_the_same_pixels(home, tmp_path):
    cv2_bytes = _cv2_png(tmp_path / "c.png", page(5)).read_bytes()
    path = _v3_store(home, [cv2_bytes, encode_png(page(6)), encode_png(page(5))])
    with CorrectionStore.open(home) as store:
        assert schema.recorded_version(sqlite3.connect(path)) == schema.LATEST
        truths = sorted(_truths(store))
        assert truths == [
            [((2, 2, 12, 20), "3"), ((20, 2, 30, 20), "5")],  # page 6, as imported
            [((2, 2, 12, 20), "8"), ((20, 2, 30, 20), "3")],  # page 5: its review, not import
        ]
        assert store.stats().pages == 2
    # the page kept the file it had first; the other encoding's file is gone
    assert sorted(p.name for p in (path.parent / "pages").iterdir()) == sorted(
        f"{sha256_hex(b)}.png" for b in (cv2_bytes, encode_png(page(6)))
    )


def _unlearnt(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM pages WHERE pixels IS NULL").fetchone()[0]


def test_a_page_whose_file_is_missing_stays_unlearnt_until_it_is_back(home):
    path = _v3_store(home, [encode_png(page(7)), encode_png(page(8))])
    missing = path.parent / "pages" / f"{sha256_hex(encode_png(page(7)))}.png"
    missing.unlink()
    with CorrectionStore.open(home) as store:
        assert _unlearnt(path) == 2  # opening alone learns nothing: it stays quick
        store.learn_pixels()
        assert _unlearnt(path) == 1
        missing.write_bytes(encode_png(page(7)))
        assert len(store.page_truths()) == 2  # learns what it reads
        assert _unlearnt(path) == 0


def test_a_page_saved_before_its_twin_was_learnt_is_joined_to_it(home, tmp_path):
    cv2_bytes = _cv2_png(tmp_path / "c.png", page(11)).read_bytes()
    path = _v3_store(home, [cv2_bytes, encode_png(page(12))])
    with CorrectionStore.open(home) as store:
        store.save(_review(page(11)))  # its twin is not learnt yet: a page of its own, for now
        assert store.stats().pages == 3
        reviewed = [((2, 2, 12, 20), "8"), ((20, 2, 30, 20), "5")]
        assert reviewed in _truths(store)
        assert store.stats().pages == 2 and _unlearnt(path) == 0
    assert f"{sha256_hex(cv2_bytes)}.png" in {p.name for p in (path.parent / "pages").iterdir()}


def test_a_save_replaces_a_damaged_file_of_its_page_in_another_encoding(home, tmp_path):
    src = _dataset(tmp_path, "d", [("p.png", page(9))])
    with CorrectionStore.open(home) as store:
        import_dataset(store, src, "coco")
        (stored,) = store.pages.root.iterdir()
        stored.write_bytes(stored.read_bytes()[:-30])  # damaged on disk
        store.save(_review(page(9)))
        (truth,) = store.page_truths()
        assert np.array_equal(store.page_image(truth.page_hash), page(9))


def test_pixel_hash_tells_shape_apart():
    flat = page(10, width=64, height=48)
    assert pixel_hash(flat) != pixel_hash(flat.reshape(48 * 2, 32, 3))
    assert pixel_hash(flat) == pixel_hash(np.asfortranarray(flat))


def test_upgrading_keeps_the_boxes_of_an_import_beside_a_later_one_without_them(home, tmp_path):
    # The dataset imported with its labels (OpenCV's bytes), then again without them (a YOLO
    # image whose label file was missing, PIL's bytes): two pages before schema 4.
    cv2_bytes = _cv2_png(tmp_path / "c.png", page(13)).read_bytes()
    path = _v3_store(home, [cv2_bytes, encode_png(page(13)), encode_png(page(14))])
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM boxes WHERE review_id = 2")
    with CorrectionStore.open(home) as store:
        assert [((2, 2, 12, 20), "3"), ((20, 2, 30, 20), "5")] in _truths(store)
        assert store.stats().pages == 2


def test_upgrading_keeps_the_later_save_of_a_review_session_saved_on_two_encodings(home, tmp_path):
    cv2_bytes = _cv2_png(tmp_path / "c.png", page(15)).read_bytes()
    path = _v3_store(home, [cv2_bytes, encode_png(page(15))])
    with sqlite3.connect(path) as conn:  # one session (page 15, started at 1) saved twice
        conn.execute("UPDATE reviews SET kind = 'review', model_version = 'v1' WHERE id = 1")
    with CorrectionStore.open(home) as store:
        assert _truths(store) == [[((2, 2, 12, 20), "8"), ((20, 2, 30, 20), "3")]]
        assert store.review_ids() == [2] and store.integrity_check() == "ok"


def test_a_save_joins_a_row_of_its_own_bytes_not_learnt_yet_to_its_twin(home, tmp_path):
    cv2_bytes = _cv2_png(tmp_path / "c.png", page(16)).read_bytes()
    path = _v3_store(home, [cv2_bytes, encode_png(page(16))])
    with CorrectionStore.open(home) as store:
        with sqlite3.connect(path) as conn:  # the first learnt, the second not yet
            conn.execute("UPDATE pages SET pixels = ? WHERE id = 1", (pixel_hash(page(16)),))
        cv2_file = store.pages.path_for(sha256_hex(cv2_bytes))
        cv2_file.write_bytes(cv2_bytes[:-40])  # damaged: the save writes its own file
        store.save(_review(page(16), REVIEWED[:1]))
        assert _unlearnt(path) == 0 and store.stats().pages == 1
        (truth,) = store.page_truths()
        assert truth.page_hash == sha256_hex(encode_png(page(16)))
        assert np.array_equal(store.page_image(truth.page_hash), page(16))


def test_a_mask_of_zeros_and_ones_imported_and_reviewed_is_one_page(home, tmp_path):
    mask = (page(17)[..., 0] > 127).astype(np.uint8)  # 0 and 1: ink and paper
    folder = tmp_path / "d" / "images"
    folder.mkdir(parents=True)
    Image.fromarray(mask, "L").save(folder / "m.png")
    opened = load_image(folder / "m.png")
    assert set(np.unique(opened)) == {0, 255}  # read as the same array reads
    assert np.array_equal(opened, load_image(mask))
    src = write_coco([LabelledImage(folder / "m.png", 64, 48, IMPORTED)], tmp_path / "d")
    with CorrectionStore.open(home) as store:
        import_dataset(store, src, "coco")
        store.save(_review(opened))
        assert store.stats().pages == 1


def test_files_are_removed_only_as_far_as_the_store_can_tell(home, monkeypatch):
    # learning and import both clear files no row names, best effort: a busy store leaves
    # them (learn_pixels let its StoreError out, failing the retrain that read the samples)
    from digitpad.errors import StoreBusyError

    with CorrectionStore.open(home) as store:
        orphan_hash, _ = store.pages.put_array(page(18))

        def busy(hashes):
            raise StoreBusyError("busy")

        monkeypatch.setattr(store, "known_pages", busy)
        store.discard_unnamed_files([orphan_hash])
        assert store.pages.holds(orphan_hash)
        monkeypatch.undo()
        store.discard_unnamed_files([orphan_hash])
        assert not store.pages.path_for(orphan_hash).exists()
