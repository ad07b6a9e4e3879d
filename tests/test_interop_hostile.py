"""Hostile datasets and export destinations: one clear error line, never a traceback, and the
store (or DEST) as it was."""

from __future__ import annotations

import json
import os
import stat
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad import cli
from digitpad.errors import ImportFormatError, StoreError, UsageError
from digitpad.formats import LabelledImage, read_coco, read_folders, write_coco, write_yolo
from digitpad.interop import export_dataset, import_dataset
from digitpad.store import CorrectionStore
from digitpad.types import Annotation, Box


def _items(tmp_path: Path, n: int = 2) -> list[LabelledImage]:
    rng = np.random.default_rng(7)
    return [
        LabelledImage(
            tmp_path / f"page_{i}.png",
            40,
            30,
            (Annotation(Box(2, 2, 12, 20), str(i)), Annotation(Box(20, 2, 30, 20), "7")),
            pixels=rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8),
        )
        for i in range(n)
    ]


def _coco(tmp_path: Path) -> tuple[Path, dict]:
    path = write_coco(_items(tmp_path), tmp_path / "coco")
    return path, json.loads(path.read_text())


def _crop(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, size=(20, 16, 3), dtype=np.uint8)).save(path)


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A tiny PNG whose IHDR declares ``width`` x ``height`` (the pixels are not there)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def _state(home) -> tuple[tuple[int, int, int], list[str]]:
    with CorrectionStore.open(home) as store:
        s = store.stats()
        files = sorted(p.name for p in store.pages.root.glob("*"))
    return (s.pages, s.imports, s.boxes), files


def _import_origins(home, src: Path, fmt: str):
    """Import ``src`` into the store at ``home``: the report and every page's origin, sorted."""
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, src, fmt)
        return report, sorted(t.origin for t in store.page_truths())


def _cli_error(capsys, argv: list[str]) -> str:
    """Runs the CLI expecting a failure; returns its stderr, checked to be one error line."""
    assert cli.main(argv) != 0
    err = capsys.readouterr().err
    assert err.startswith("digitpad: error: ") and err.count("\n") == 1, err
    return err


# --- COCO -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["images", "annotations", "categories"])
@pytest.mark.parametrize("bad_id", [[1], {"a": 1}])
def test_coco_id_that_is_a_list_or_object_is_a_format_error(tmp_path, key, bad_id):
    path, doc = _coco(tmp_path)
    doc[key][0]["id"] = bad_id
    path.write_text(json.dumps(doc))
    with pytest.raises(ImportFormatError, match=f"{key} entry 0: field 'id' missing or not int"):
        read_coco(path)


@pytest.mark.parametrize("crowd", [1, True])
def test_coco_crowd_region_is_a_format_error_and_keeps_the_store(home, tmp_path, capsys, crowd):
    # a box of many objects taken as one digit would teach the classifier a box of several
    path, doc = _coco(tmp_path)
    doc["annotations"][1]["iscrowd"] = crowd
    path.write_text(json.dumps(doc))
    before = _state(home)
    err = _cli_error(capsys, ["import", str(path)])
    assert "(entry 1): iscrowd regions hold many objects" in err
    assert _state(home) == before


@pytest.mark.parametrize(
    "where", [("annotations", "bbox", [10**400, 1, 2, 3]), ("images", "width", 10**400)]
)
def test_coco_integer_too_big_for_a_float_is_a_format_error(tmp_path, where):
    key, field, value = where
    path, doc = _coco(tmp_path)
    doc[key][0][field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(ImportFormatError, match="out of range"):
        read_coco(path)


@pytest.mark.parametrize(
    "text",
    [
        "1" * 5000,
        '{"images": [], "annotations": [], "categories": [], "info": ' + "1" * 5000 + "}",
    ],
)
def test_coco_integer_of_thousands_of_digits_is_a_format_error(tmp_path, text):
    path = tmp_path / "annotations.json"
    path.write_text(text)
    with pytest.raises(ImportFormatError, match=r"unreadable JSON .*4300 digits"):
        read_coco(path)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 200_000 + "]" * 200_000,
        '{"images": [], "annotations": [], "categories": [], "info": '
        + "[" * 100_000
        + "]" * 100_000
        + "}",
    ],
)
def test_coco_deeply_nested_json_is_a_format_error(tmp_path, text):
    path = tmp_path / "annotations.json"
    path.write_text(text)
    with pytest.raises(ImportFormatError, match="nested too deeply"):
        read_coco(path)


def test_cli_coco_with_a_list_id_is_one_line_and_keeps_the_store(home, tmp_path, capsys):
    path, doc = _coco(tmp_path)
    doc["images"][0]["id"] = [1]
    path.write_text(json.dumps(doc))
    before = _state(home)
    _cli_error(capsys, ["import", str(path), "--format", "coco"])
    assert _state(home) == before


@pytest.mark.parametrize("file_name", ["ABSOLUTE", "../secret.png", "images/../../secret.png"])
def test_coco_file_name_outside_the_dataset_is_refused_naming_it(home, tmp_path, capsys, file_name):
    path, doc = _coco(tmp_path)
    secret = tmp_path / "secret.png"  # an image the dataset has no business reading
    _crop(secret, 9)
    file_name = str(secret) if file_name == "ABSOLUTE" else file_name
    doc["images"][0].update(file_name=file_name, width=16, height=20)
    doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] != 1]
    path.write_text(json.dumps(doc))
    with pytest.raises(ImportFormatError) as exc:
        read_coco(path)
    assert str(exc.value) == (
        f"annotations.json: image id 1 (entry 0, {file_name}): file_name must be a path inside "
        "the dataset's folder, not absolute or climbing out of it with '..'"
    )
    before = _state(home)
    assert "file_name must be a path inside" in _cli_error(capsys, ["import", str(path)])
    assert _state(home) == before


def test_coco_file_name_whose_dots_stay_inside_the_dataset_imports(tmp_path):
    path, doc = _coco(tmp_path)
    doc["images"][0]["file_name"] = "images/../images/page_0.png"
    path.write_text(json.dumps(doc))
    assert [Path(i.path).name for i in read_coco(path)] == ["page_0.png", "page_1.png"]


def test_coco_images_naming_one_file_are_refused_naming_both(home, tmp_path, capsys):
    path, doc = _coco(tmp_path)
    doc["images"][1]["file_name"] = "./" + doc["images"][0]["file_name"]
    path.write_text(json.dumps(doc))
    with pytest.raises(ImportFormatError) as exc:
        read_coco(path)  # imported once, one of the two entries' boxes would be lost
    assert str(exc.value) == (
        "annotations.json: image id 2 (entry 1, ./page_0.png) names the same file as image id 1 "
        "(entry 0): give each image one entry, with all its annotations"
    )
    before = _state(home)
    assert "names the same file" in _cli_error(capsys, ["import", str(path)])
    assert _state(home) == before


# --- YOLO -----------------------------------------------------------------------------------


def _yolo_with_list(tmp_path: Path, listing: bytes) -> Path:
    root = write_yolo(_items(tmp_path), tmp_path / "yolo").parent
    (root / "data.yaml").write_text("path: .\ntrain: list.txt\n")
    (root / "list.txt").write_bytes(listing)
    return root


def test_yolo_list_file_with_bytes_that_are_not_utf8_is_a_format_error(home, tmp_path, capsys):
    root = _yolo_with_list(tmp_path, b"images/page_0.png\n\xff\xfe\n")
    before = _state(home)
    err = _cli_error(capsys, ["import", str(root), "--format", "yolo"])
    assert "not found" in err
    assert _state(home) == before


def test_yolo_list_file_naming_a_file_whose_name_is_not_utf8_imports(home, tmp_path):
    root = _yolo_with_list(tmp_path, b"images/page_0.png\nimages/p\xe9ge.png\n")
    try:
        os.rename(root / "images" / "page_1.png", os.fsencode(root / "images") + b"/p\xe9ge.png")
        os.rename(root / "labels" / "page_1.txt", os.fsencode(root / "labels") + b"/p\xe9ge.txt")
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    report, origins = _import_origins(home, root, "yolo")
    assert (report.pages_added, report.boxes_added) == (2, 4)
    assert origins == ["p\\xe9ge.png", "page_0.png"]


def test_yolo_images_sharing_one_label_file_are_a_format_error(home, tmp_path, capsys):
    root = write_yolo(_items(tmp_path), tmp_path / "yolo").parent
    Image.new("RGB", (90, 70), "white").save(root / "images" / "page_0.jpg")
    before = _state(home)
    err = _cli_error(capsys, ["import", str(root), "--format", "yolo"])
    assert "share the label file labels/page_0.txt" in err
    assert _state(home) == before
    (root / "labels" / "page_0.txt").unlink()  # both backgrounds: nothing is ambiguous
    with CorrectionStore.open(home) as store:
        assert import_dataset(store, root, "yolo").pages_added == 3


# --- folders --------------------------------------------------------------------------------


def test_folders_file_name_that_is_not_utf8_imports_with_an_escaped_origin(home, tmp_path):
    src = tmp_path / "crops"
    (src / "7").mkdir(parents=True)
    _crop(src / "7" / "ok.png", 1)
    try:
        _crop(Path(os.fsdecode(os.fsencode(src / "7") + b"/bad\xff.png")), 2)
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    report, origins = _import_origins(home, src, "folders")
    assert (report.pages_added, report.boxes_added) == (2, 2)
    assert origins == ["7/bad\\xff.png", "7/ok.png"]


@pytest.mark.parametrize("side", [15_000, 20_000, 30_000])
def test_folders_crop_declaring_too_many_pixels_is_refused_in_one_line(tmp_path, side):
    # 15000^2 and 20000^2 are where PIL only warns (in several lines); 30000^2 where it raises
    src = tmp_path / "crops"
    (src / "7").mkdir(parents=True)
    _crop(src / "7" / "ok.png", 1)
    _png_header_only(src / "7" / "bomb.png", side, side)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning escaping would fail the test here
        with pytest.raises(ImportFormatError, match=r"7/bomb\.png: .*refused"):
            read_folders(src)


def test_cli_folders_bomb_is_one_line_and_keeps_the_store(home, tmp_path, capsys):
    src = tmp_path / "crops"
    (src / "7").mkdir(parents=True)
    _png_header_only(src / "7" / "bomb.png", 20_000, 20_000)
    before = _state(home)
    err = _cli_error(capsys, ["import", str(src), "--format", "folders"])
    assert "decompression bomb" in err
    assert _state(home) == before


@pytest.mark.parametrize("fmt", ["folders", "coco"])
def test_png_whose_pixels_are_missing_is_refused_at_import(home, tmp_path, capsys, fmt):
    # Every chunk whole and its CRC right, so PIL's verify() passes it: only decoding finds
    # that the image data stops short (it imported, and failed when a retrain read it).
    src = tmp_path / "crops"
    (src / "7").mkdir(parents=True)
    _crop(src / "7" / "ok.png", 1)
    _png_header_only(src / "7" / "short.png", 16, 20)
    if fmt == "coco":
        items = [LabelledImage(p, 16, 20, ()) for p in sorted((src / "7").iterdir())]
        src = write_coco(items, tmp_path / "coco")
    before = _state(home)
    err = _cli_error(capsys, ["import", str(src), "--format", fmt])
    assert err.count("short.png") == 1 and "truncated" in err
    assert _state(home) == before


def test_pages_folder_that_is_a_file_is_a_store_error_and_keeps_the_store(home, tmp_path):
    src = tmp_path / "crops"
    (src / "3").mkdir(parents=True)
    _crop(src / "3" / "a.png", 3)
    pages = home.corrections_dir / "pages"
    with CorrectionStore.open(home) as store:
        assert store.stats().pages == 0
    if pages.is_dir():
        pages.rmdir()
    pages.write_text("not a folder")
    with CorrectionStore.open(home) as store:
        with pytest.raises(StoreError, match="cannot write page files"):
            import_dataset(store, src, "folders")
        assert store.stats().pages == 0
    assert pages.read_text() == "not a folder"


# --- export destinations --------------------------------------------------------------------


def _store_with_pages(home, tmp_path: Path) -> None:
    with CorrectionStore.open(home) as store:
        import_dataset(store, write_coco(_items(tmp_path), tmp_path / "src"), "coco")


def _export(home, dest: Path, fmt: str = "coco"):
    with CorrectionStore.open(home) as store:
        return export_dataset(store, dest, fmt)


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_export_whose_parent_is_a_file_is_a_usage_error_and_leaves_nothing(home, tmp_path):
    _store_with_pages(home, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "afile").write_text("data")
    with pytest.raises(UsageError, match="cannot export to"):
        _export(home, out / "afile" / "sub")
    assert _tree(out) == ["afile"] and (out / "afile").read_text() == "data"


def test_export_to_a_long_but_legal_name_works(home, tmp_path):
    _store_with_pages(home, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    report = _export(home, out / ("x" * 250))
    assert report.pages == 2 and report.path.is_file()
    assert [p.name for p in out.iterdir()] == ["x" * 250]


def test_export_to_a_name_too_long_leaves_no_folder_behind(home, tmp_path):
    _store_with_pages(home, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UsageError, match="cannot export to"):
        _export(home, out / ("x" * 300))
    with pytest.raises(UsageError, match="cannot export to"):
        _export(home, out / "new" / "parents" / ("x" * 300))
    assert _tree(out) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_export_under_proc_is_a_usage_error(home, tmp_path):
    _store_with_pages(home, tmp_path)
    with pytest.raises(UsageError, match="cannot export to"):
        _export(home, Path("/proc/digitpad_export_test"))


@pytest.mark.parametrize("points_at", ["nowhere", "empty"])
def test_export_to_a_symlink_is_a_usage_error_and_leaves_it(home, tmp_path, points_at):
    _store_with_pages(home, tmp_path)
    out = tmp_path / "out"
    (out / "empty").mkdir(parents=True)
    (out / "link").symlink_to(out / points_at)
    with pytest.raises(UsageError, match="symbolic link"):
        _export(home, out / "link")
    assert _tree(out) == ["empty", "link"] and os.readlink(out / "link") == str(out / points_at)


def test_cli_export_path_failure_is_one_line(home, tmp_path, capsys):
    _store_with_pages(home, tmp_path)
    (tmp_path / "afile").write_text("data")
    _cli_error(capsys, ["export", str(tmp_path / "afile" / "sub"), "--format", "yolo"])
    _cli_error(capsys, ["export", str(tmp_path / ("y" * 300))])


@pytest.mark.parametrize("fmt", ["coco", "yolo", "folders"])
def test_exported_folder_gets_the_permissions_of_a_plain_mkdir(home, tmp_path, umask_022, fmt):
    _store_with_pages(home, tmp_path)
    _export(home, tmp_path / "out", fmt)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755


def test_export_into_an_empty_folder_keeps_its_permissions(home, tmp_path, umask_022):
    _store_with_pages(home, tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out").chmod(0o750)
    _export(home, tmp_path / "out")
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o750
    assert (tmp_path / "out" / "annotations.json").is_file()


# --- export integrity -----------------------------------------------------------------------


def _page_files(home) -> list[Path]:
    return sorted((home.corrections_dir / "pages").glob("*.png"))


@pytest.mark.parametrize("fmt", ["coco", "yolo", "folders"])
@pytest.mark.parametrize("damage", ["truncated", "swapped"])
def test_export_refuses_a_damaged_page_file_and_writes_nothing(home, tmp_path, fmt, damage):
    _store_with_pages(home, tmp_path)
    first, second = _page_files(home)
    if damage == "truncated":
        os.truncate(first, 300)
    else:  # page B's file under page A's name: A's boxes would ship on B's image
        first.write_bytes(second.read_bytes())
    with pytest.raises(StoreError, match=rf"{first.stem}\.png is damaged"):
        _export(home, tmp_path / "out", fmt)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_refusing_a_damaged_page_leaves_an_empty_dest_as_it_was(home, tmp_path, capsys):
    _store_with_pages(home, tmp_path)
    os.truncate(_page_files(home)[0], 300)
    (tmp_path / "out").mkdir()
    err = _cli_error(capsys, ["export", str(tmp_path / "out")])
    assert "damaged" in err
    assert (tmp_path / "out").is_dir() and _tree(tmp_path / "out") == []
