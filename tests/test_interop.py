"""Import/export between the store and COCO/YOLO/folders, and the import/export/stats CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_store_helpers import payload

from digitpad import cli
from digitpad.errors import ImportFormatError, UsageError
from digitpad.formats import LabelledImage, coco_schema_errors, read_coco, read_yolo, write_coco
from digitpad.formats import write_yolo as write_yolo_dataset
from digitpad.interop import export_dataset, guess_format, import_dataset
from digitpad.store import CorrectionStore
from digitpad.types import NOT_DIGIT, Annotation, Box, BoxOutcome, ReviewPayload


def _dataset(tmp_path: Path, n: int = 4) -> list[LabelledImage]:
    rng = np.random.default_rng(1)
    items = []
    for i in range(n):
        h, w = 50 + i, 80 + 3 * i
        pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        digits = [
            Annotation(Box(4 + 12 * k, 3, 14 + 12 * k, 20 + k), str((i + k) % 10)) for k in range(4)
        ]
        anns = (*digits, Annotation(Box(60, 30, 70, 45), NOT_DIGIT, kind="scribble"))
        items.append(LabelledImage(tmp_path / f"page_{i}.png", w, h, anns, pixels=pixels))
    return items


def _content(items: list[LabelledImage]) -> list[tuple]:
    """Name, pixels, boxes and labels of each image, order-independent."""
    return sorted(
        (
            Path(i.path).name,
            np.asarray(Image.open(i.path).convert("RGB")).tobytes(),
            sorted((a.box.as_tuple(), a.label) for a in i.annotations),
        )
        for i in items
    )


def _counts(store: CorrectionStore) -> tuple[int, int, int]:
    s = store.stats()
    return s.pages, s.imports, s.boxes


def test_coco_import_then_export_gives_the_same_dataset(home, tmp_path):
    src = write_coco(_dataset(tmp_path), tmp_path / "in")
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, src, "coco")
        assert (report.pages_added, report.pages_skipped, report.boxes_added) == (4, 0, 20)
        out = export_dataset(store, tmp_path / "out", "coco")
    assert out.path == tmp_path / "out" / "annotations.json"
    assert coco_schema_errors(json.loads(out.path.read_text()), strict=True) == []
    assert _content(read_coco(out.path)) == _content(read_coco(src))


def test_yolo_import_then_export_gives_the_same_dataset(home, tmp_path):
    src = write_yolo_dataset(_dataset(tmp_path), tmp_path / "in")
    with CorrectionStore.open(home) as store:
        import_dataset(store, src.parent, "yolo")
        out = export_dataset(store, tmp_path / "out", "yolo")
    assert _content(read_yolo(out.path)) == _content(read_yolo(src))
    first = (tmp_path / "out" / "labels" / "page_0.txt").read_text().split()
    assert all(0.0 <= float(v) <= 1.0 for v in first[1:5])


def test_folders_export_and_import(home, tmp_path):
    with CorrectionStore.open(home) as store:
        store.save_review(payload(1))
        out = export_dataset(store, tmp_path / "crops", "folders")
        assert sorted(p.parent.name for p in out.path.rglob("*.png")) == sorted(
            ["3", "5", "1", NOT_DIGIT, "9"]
        )
        report = import_dataset(store, out.path, "folders")
        assert (report.pages_added, report.boxes_added) == (5, 5)


def test_a_jpeg_dataset_is_stored_as_png_with_the_decoded_pixels(home, tmp_path):
    items = _dataset(tmp_path, 2)
    src = write_coco(items, tmp_path / "in")
    doc = json.loads(src.read_text())
    for entry in doc["images"]:
        png = tmp_path / "in" / "images" / entry["file_name"]
        Image.open(png).save(png.with_suffix(".jpg"), quality=90)
        png.unlink()
        entry["file_name"] = png.with_suffix(".jpg").name
    src.write_text(json.dumps(doc))
    with CorrectionStore.open(home) as store:
        assert import_dataset(store, src, "coco").pages_added == 2
        out = export_dataset(store, tmp_path / "out", "coco")
    back = {Path(i.path).name: i for i in read_coco(out.path)}
    assert sorted(back) == ["page_0.png", "page_1.png"]
    jpeg = np.asarray(Image.open(tmp_path / "in" / "images" / "page_0.jpg").convert("RGB"))
    assert np.array_equal(np.asarray(Image.open(back["page_0.png"].path)), jpeg)
    assert back["page_0.png"].annotations == read_coco(src)[0].annotations


def test_importing_twice_adds_nothing(home, tmp_path):
    src = write_coco(_dataset(tmp_path), tmp_path / "in")
    with CorrectionStore.open(home) as store:
        import_dataset(store, src, "coco")
        before = _counts(store)
        again = import_dataset(store, src, "coco")
        assert (again.pages_added, again.pages_skipped, again.boxes_added) == (0, 4, 0)
        assert _counts(store) == before == (4, 4, 20)
        # The same pages as YOLO: same pixels, so still nothing new.
        yolo = write_yolo_dataset(_dataset(tmp_path), tmp_path / "yolo")
        assert import_dataset(store, yolo, "yolo").pages_added == 0
        assert len(list(store.pages.root.rglob("*.png"))) == 4


def test_imported_boxes_train_but_do_not_count_for_accuracy(home, tmp_path):
    src = write_coco(_dataset(tmp_path), tmp_path / "in")
    with CorrectionStore.open(home) as store:
        import_dataset(store, src, "coco")
        stats = store.stats()
        samples = list(store.training_samples())
    assert stats.overall.total == 0 and stats.reviewed_boxes == 0
    assert stats.imported_boxes == 20 and stats.reviews == 0
    assert len(samples) == 20 and {s.source for s in samples} == {"imported"}
    assert sum(s.label == NOT_DIGIT for s in samples) == 4


def _assert_nothing_kept(home) -> None:
    with sqlite3.connect(home.store_path) as conn:
        for table in ("pages", "reviews", "boxes"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    assert not list((home.corrections_dir / "pages").rglob("*.png"))


def test_a_corrupt_image_late_in_the_dataset_keeps_nothing(home, tmp_path):
    src = write_coco(_dataset(tmp_path), tmp_path / "in")
    last = tmp_path / "in" / "images" / "page_3.png"
    last.write_bytes(last.read_bytes()[:300])  # header intact, pixels cut off
    with (
        CorrectionStore.open(home) as store,
        pytest.raises(ImportFormatError, match=r"page_3\.png"),
    ):
        import_dataset(store, src, "coco")
    _assert_nothing_kept(home)


def test_a_bad_box_keeps_nothing(home, tmp_path):
    src = write_coco(_dataset(tmp_path), tmp_path / "in")
    doc = json.loads(src.read_text())
    doc["annotations"][-1]["bbox"] = [70, 40, 30, 30]
    src.write_text(json.dumps(doc))
    needle = r"annotations.json: annotation id 20 .*outside"
    with CorrectionStore.open(home) as store, pytest.raises(ImportFormatError, match=needle):
        import_dataset(store, src, "coco")
    _assert_nothing_kept(home)


def test_guess_format(tmp_path):
    coco = write_coco(_dataset(tmp_path, 1), tmp_path / "c")
    yolo = write_yolo_dataset(_dataset(tmp_path, 1), tmp_path / "y")
    assert guess_format(coco) == guess_format(coco.parent) == "coco"
    assert guess_format(yolo) == guess_format(yolo.parent) == "yolo"
    with pytest.raises(UsageError, match="--format"):
        guess_format(tmp_path)


def test_export_refuses_a_non_empty_destination(home, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with CorrectionStore.open(home) as store, pytest.raises(UsageError, match="not empty"):
        export_dataset(store, tmp_path / "out", "coco")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_cli_import_export_stats_exit_codes(home, tmp_path, capsys):
    src = write_coco(_dataset(tmp_path), tmp_path / "in")
    assert cli.main(["import", str(src), "--format", "coco"]) == 0
    assert "imported 4 pages (20 boxes)" in capsys.readouterr().out
    assert cli.main(["import", str(src.parent)]) == 0
    assert "; 4 already in the store, kept as they were\n" in capsys.readouterr().out
    assert cli.main(["export", str(tmp_path / "out"), "--format", "yolo"]) == 0
    assert "exported 4 pages (20 boxes) as yolo" in capsys.readouterr().out
    assert cli.main(["export", str(tmp_path / "out")]) == 2
    assert "not empty" in capsys.readouterr().err
    src.write_text("{broken")
    assert cli.main(["import", str(src), "--format", "coco"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("digitpad: error: annotations.json: broken JSON") and err[-1] == "\n"
    assert cli.main(["import", str(tmp_path / "nothing")]) == 2
    capsys.readouterr()
    with CorrectionStore.open(home) as store:
        store.save_review(payload(1))
    assert cli.main(["stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"] == {"correct": 2, "total": 5, "accuracy": 0.4}
    assert data["imported_boxes"] == 20
    assert cli.main(["stats"]) == 0
    assert "live accuracy:  40.0% (2/5)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["import", str(src), "--format", "voc"])
    assert exit_.value.code == 2


def test_reimporting_an_old_export_does_not_undo_a_newer_correction(home, tmp_path):
    with CorrectionStore.open(home) as store:
        first = payload(1)
        store.save_review(first)
        export_dataset(store, tmp_path / "old", "coco")
        fixed = (BoxOutcome(Box(2, 2, 12, 20), "8", "added"),)
        rid = store.save_review(payload(1, fixed, model="v2"))
        again = import_dataset(store, tmp_path / "old", "coco")
        # the page is the person's: kept as it was, and said so, not counted as imported
        assert (again.pages_added, again.pages_skipped, again.boxes_added) == (0, 1, 0)
        assert store.stats().imports == 0
        samples = list(store.training_samples())
    assert [(s.box, s.label, s.review_id) for s in samples] == [(Box(2, 2, 12, 20), "8", rid)]


def _truths(store: CorrectionStore) -> dict[str, list]:
    return {
        t.origin: sorted((a.box.as_tuple(), a.label) for a in t.annotations)
        for t in store.page_truths()
    }


def test_reimporting_yolo_gives_pages_imported_without_labels_the_labels_now_there(
    home, tmp_path, capsys
):
    items = _dataset(tmp_path, 3)
    yaml = write_yolo_dataset(items, tmp_path / "yolo")
    labels = tmp_path / "yolo" / "labels"
    later = (labels / "page_1.txt").read_text()
    (labels / "page_1.txt").unlink()  # its label file not written yet: an image without boxes
    assert cli.main(["import", str(yaml.parent)]) == 0
    with CorrectionStore.open(home) as store:
        assert _truths(store)["page_1.png"] == []
    (labels / "page_1.txt").write_text(later)
    assert cli.main(["import", str(yaml.parent)]) == 0
    out = capsys.readouterr().out.splitlines()[-1]
    assert out.endswith(
        "imported 0 pages (5 boxes) from "
        f"{yaml.parent} as yolo; 1 already in the store without boxes, given the dataset's now; "
        "2 already in the store, kept as they were"
    )
    with CorrectionStore.open(home) as store:
        truths = _truths(store)
        assert _counts(store) == (3, 3, 15)  # one import per page, every box once
    assert truths["page_1.png"] == sorted((a.box.as_tuple(), a.label) for a in items[1].annotations)
    with CorrectionStore.open(home) as store:  # and a third time, nothing more
        again = import_dataset(store, yaml.parent, "yolo")
    assert (again.pages_added, again.pages_labelled, again.pages_skipped) == (0, 0, 3)


def test_reimport_never_changes_boxes_already_in_the_store_nor_a_reviewed_page(home, tmp_path):
    items = _dataset(tmp_path, 2)
    yaml = write_yolo_dataset(items, tmp_path / "yolo")
    labels = tmp_path / "yolo" / "labels"
    (labels / "page_1.txt").write_text("")  # page_1 without boxes at first
    with CorrectionStore.open(home) as store:
        import_dataset(store, yaml.parent, "yolo")
        # Someone reviews page_1 in the app, finding no digit on it (the very same pixels).
        store.save(ReviewPayload(items[1].pixels, "loaded", "v1", 1.0, 2.0, ()))
        assert store.stats().pages == 2  # the imported page itself, not another one
        before = _truths(store)
    (labels / "page_0.txt").write_text("3 0.5 0.5 0.2 0.2\n")  # other boxes now
    (labels / "page_1.txt").write_text("4 0.5 0.5 0.2 0.2\n")
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, yaml.parent, "yolo")
        assert (report.pages_labelled, report.pages_skipped, report.boxes_added) == (0, 2, 0)
        assert _truths(store) == before


def test_the_same_image_twice_in_a_dataset(home, tmp_path):
    items = _dataset(tmp_path, 2)
    twin = LabelledImage(
        tmp_path / "twin.png",
        items[0].width,
        items[0].height,
        items[0].annotations,
        pixels=items[0].pixels,
    )
    src = write_coco([*items, twin], tmp_path / "in")
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, src, "coco")  # same boxes: one page, said so
        assert (report.pages_added, report.pages_repeated, report.boxes_added) == (2, 1, 10)
    other = LabelledImage(
        twin.path, twin.width, twin.height, twin.annotations[:1], pixels=twin.pixels
    )
    src = write_coco([*items, other], tmp_path / "in2")
    with CorrectionStore.open(home) as store:
        before = _counts(store)
        with pytest.raises(ImportFormatError, match=r"^twin\.png: the same image as page_0\.png"):
            import_dataset(store, src, "coco")  # one of the two sets of boxes would be lost
        assert _counts(store) == before


@pytest.mark.parametrize("fmt", ["yolo", "folders"])
def test_a_page_whose_name_is_hidden_exports_under_its_hash_and_reads_back(home, tmp_path, fmt):
    # ".scan.png" exported as it is would be a hidden file, which dataset readers skip
    items = _dataset(tmp_path, n=2)
    doc = json.loads(write_coco(items, tmp_path / "in").read_text())
    doc["images"][0]["file_name"] = ".scan.png"
    (tmp_path / "in" / "images" / "page_0.png").rename(tmp_path / "in" / "images" / ".scan.png")
    src = tmp_path / "in" / "annotations.json"
    src.write_text(json.dumps(doc))
    with CorrectionStore.open(home) as store:
        assert import_dataset(store, src, "coco").pages_added == 2
        export_dataset(store, tmp_path / "out", fmt)
    assert not [p for p in (tmp_path / "out").rglob(".*") if p.is_file()]
    from digitpad.home import resolve_home

    with CorrectionStore.open(resolve_home(tmp_path / "fresh")) as store:
        report = import_dataset(store, tmp_path / "out", fmt)
    # yolo: both pages; folders: a page per crop, the hidden page's crops among them
    assert report.pages_added == (2 if fmt == "yolo" else 10)


def test_yolo_images_in_subfolders_are_imported_with_their_labels(home, tmp_path):
    # Ultralytics' usual layout: images/train/, images/val/ and labels/ beside them alike
    root = write_yolo_dataset(_dataset(tmp_path, n=3), tmp_path / "yolo").parent
    for split, name in (("train", "page_0"), ("val", "page_1"), ("val", "page_2")):
        for kind, suffix in (("images", ".png"), ("labels", ".txt")):
            (root / kind / split).mkdir(exist_ok=True)
            (root / kind / f"{name}{suffix}").rename(root / kind / split / f"{name}{suffix}")
    (root / "images" / ".cache").mkdir()  # hidden: not the dataset's
    Image.new("RGB", (20, 20)).save(root / "images" / ".cache" / "thumb.png")
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, root, "yolo")
        assert (report.pages_added, report.boxes_added) == (3, 15)
    (root / "labels" / "val" / "lost.txt").write_text("3 0.5 0.5 0.1 0.1\n")
    with pytest.raises(ImportFormatError, match=r"labels/val/lost\.txt: no image file"):
        read_yolo(root)
