"""digitpad.formats: COCO, YOLO and folders round trips, schema checks and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad.errors import ImportFormatError
from digitpad.formats import (
    LabelledImage,
    coco_schema_errors,
    read_coco,
    read_folders,
    read_yolo,
    write_coco,
    write_folders,
    write_yolo,
)
from digitpad.types import CLASSES, NOT_DIGIT, Annotation, Box


def _pages(tmp_path: Path, n: int = 3) -> list[LabelledImage]:
    rng = np.random.default_rng(0)
    pages = []
    for i in range(n):
        h, w = 60 + 7 * i, 90 + 11 * i
        pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        anns = (
            Annotation(Box(0, 0, 10, 12), str(i)),
            Annotation(Box(w - 9, h - 20, w, h), "7", touching=True),
            Annotation(Box(30, 5, 41, 33), NOT_DIGIT, kind="dash"),
        )
        pages.append(LabelledImage(tmp_path / f"p{i}.png", w, h, anns, pixels=pixels))
    return pages


def _key(items: list[LabelledImage]) -> list[tuple]:
    return sorted(
        (Path(i.path).name, i.width, i.height, tuple((a.box, a.label) for a in i.annotations))
        for i in items
    )


def _pixels(items: list[LabelledImage]) -> dict[str, bytes]:
    return {Path(i.path).name: np.asarray(Image.open(i.path)).tobytes() for i in items}


def test_coco_round_trip_keeps_images_boxes_labels(tmp_path):
    pages = _pages(tmp_path)
    path = write_coco(pages, tmp_path / "coco")
    doc = json.loads(path.read_text())
    assert coco_schema_errors(doc, strict=True) == []
    assert [c["name"] for c in doc["categories"]] == list(CLASSES)
    assert [c["id"] for c in doc["categories"]] == list(range(1, 12))
    back = read_coco(path)
    assert _key(back) == _key(pages)
    assert back[0].annotations[1].touching and back[0].annotations[2].kind == "dash"
    for p in pages:
        assert _pixels(back)[p.file_name] == p.pixels.tobytes()
    # Written again from what was read: the same file contents.
    again = write_coco(back, tmp_path / "coco2")
    assert json.loads(again.read_text())["annotations"] == doc["annotations"]


def test_yolo_round_trip_and_normalised_values(tmp_path):
    pages = _pages(tmp_path)
    yaml = write_yolo(pages, tmp_path / "yolo")
    assert "names: ['0', '1'" in yaml.read_text()
    for txt in (tmp_path / "yolo" / "labels").glob("*.txt"):
        for line in txt.read_text().splitlines():
            k, *vals = line.split()
            assert 0 <= int(k) <= 10
            assert all(0.0 <= float(v) <= 1.0 for v in vals)
    assert _key(read_yolo(yaml)) == _key(pages)
    assert _key(read_yolo(tmp_path / "yolo")) == _key(pages)


def test_coco_touching_as_0_or_1_is_read(tmp_path):
    path, doc = _coco(tmp_path)
    doc["annotations"][0]["attributes"]["touching"] = 1
    doc["annotations"][1]["attributes"]["touching"] = 0
    path.write_text(json.dumps(doc))
    anns = read_coco(path)[0].annotations
    assert anns[0].touching is True and anns[1].touching is False


def test_files_that_begin_with_a_byte_order_mark_are_read(tmp_path):
    pages = _pages(tmp_path, 2)
    bom = "\ufeff"
    coco = write_coco(pages, tmp_path / "coco")
    coco.write_text(bom + coco.read_text(), encoding="utf-8")
    assert _key(read_coco(coco)) == _key(pages)
    root = tmp_path / "yolo"
    yaml = write_yolo(pages, root)
    yaml.write_text(bom + yaml.read_text(), encoding="utf-8")
    for txt in (root / "labels").glob("*.txt"):
        txt.write_text(bom + txt.read_text(), encoding="utf-8")
    assert _key(read_yolo(yaml)) == _key(pages)
    listing = "".join(f"images/{p.file_name}\n" for p in pages)
    (root / "list.txt").write_text(bom + listing, encoding="utf-8")
    yaml.write_text(bom + "train: list.txt\n", encoding="utf-8")
    assert _key(read_yolo(yaml)) == _key(pages)


def test_yolo_yaml_leaves_the_root_to_the_file_s_folder(tmp_path):
    # Ultralytics reads a relative "path:" against its datasets folder or the working folder,
    # and train/val against the yaml's own folder only when "path:" is absent
    yaml = write_yolo(_pages(tmp_path, 1), tmp_path / "yolo")
    keys = [ln.split(":")[0] for ln in yaml.read_text().splitlines() if not ln.startswith("#")]
    assert keys == ["train", "val", "nc", "names"]


def test_yolo_reads_common_yaml_variants(tmp_path):
    pages = _pages(tmp_path, 1)
    root = tmp_path / "yolo"
    write_yolo(pages, root)
    # Another tool's yaml: block mapping with a different class order, quoted paths, comments.
    names = ["not_digit", *[str(d) for d in range(10)]]
    mapping = "\n".join(f"  {i}: '{n}'" for i, n in enumerate(names))
    (root / "data.yaml").write_text(
        f"# exported\npath: '.'\ntrain: images  # all\nnames:\n{mapping}\n"
    )
    remap = {n: i for i, n in enumerate(names)}
    for txt in (root / "labels").glob("*.txt"):
        lines = [ln.split() for ln in txt.read_text().splitlines()]
        txt.write_text("".join(f"{remap[CLASSES[int(k)]]} {' '.join(v)}\n" for k, *v in lines))
    assert _key(read_yolo(root)) == _key(pages)
    block = "\n".join(f"  - {n}" for n in names)
    (root / "data.yaml").write_text(f"train: images\nnames:\n{block}\n")
    assert _key(read_yolo(root / "data.yaml")) == _key(pages)
    flow = ", ".join(f"{i}: {n}" for i, n in enumerate(names))
    (root / "data.yaml").write_text(f"train: images\nnames: {{{flow}}}\n")
    assert _key(read_yolo(root / "data.yaml")) == _key(pages)
    (root / "data.yaml").write_text("train: images\nnames: {0: '1', 2: '3'}\n")
    with pytest.raises(ImportFormatError, match=r"data.yaml: names: class indices"):
        read_yolo(root)


def test_folders_round_trip(tmp_path):
    pages = _pages(tmp_path, 2)
    out = write_folders(pages, tmp_path / "crops")
    crops = read_folders(out)
    assert len(crops) == 6
    assert sorted(c.annotations[0].label for c in crops) == sorted(
        a.label for p in pages for a in p.annotations
    )
    first = next(c for c in crops if Path(c.path).name == "p0_000.png")
    assert (first.width, first.height) == (10, 12)
    expected = pages[0].pixels[0:12, 0:10]
    assert np.array_equal(np.asarray(Image.open(first.path)), expected)


def _coco(tmp_path: Path) -> tuple[Path, dict]:
    path = write_coco(_pages(tmp_path, 2), tmp_path / "coco")
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["annotations"][2].update(bbox=[80, 50, 30, 30]), "annotation id 3"),
        (lambda d: d["annotations"][1].update(category_id=99), "entry 1"),
        (lambda d: d["categories"][7].update(name="cat"), "not a digit"),
        (lambda d: d["images"][1].update(file_name="gone.png"), "gone.png"),
        (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), "bbox"),
        (lambda d: d["images"][0].update(width=500), "image id 1"),
        (lambda d: d.pop("categories"), "categories"),
        (lambda d: d["annotations"][1]["attributes"].update(touching="no"), "touching"),
        (lambda d: d["annotations"][1]["attributes"].update(touching=None), "entry 1"),
        (lambda d: d["annotations"][1]["attributes"].update(touching=0.5), "true or false"),
        (lambda d: d["annotations"][2]["attributes"].update(kind=5), "kind must be a word"),
    ],
)
def test_bad_coco_names_file_and_entry(tmp_path, mutate, needle):
    path, doc = _coco(tmp_path)
    mutate(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ImportFormatError) as err:
        read_coco(path)
    assert "annotations.json" in str(err.value) and needle in str(err.value)


def test_broken_json_names_file_and_line(tmp_path):
    path, _ = _coco(tmp_path)
    path.write_text('{"images": [\n{"id": 1,,}\n')
    with pytest.raises(ImportFormatError, match=r"annotations.json: broken JSON at line 2"):
        read_coco(path)


def test_schema_validator_catches_types(tmp_path):
    _, doc = _coco(tmp_path)
    doc["images"][0]["width"] = "90"
    doc["annotations"][0]["id"] = doc["annotations"][1]["id"]
    doc["annotations"][3].pop("area")
    errors = coco_schema_errors(doc)
    assert any("'width'" in e for e in errors)
    assert any("duplicate id" in e for e in errors)
    assert any("'area'" in e for e in errors)
    assert coco_schema_errors([]) == ["the top level is not a JSON object"]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("3 0.5 0.5 0.2", "expected 'class cx cy w h'"),
        ("3 0.5 abc 0.2 0.2", "not numbers"),
        ("11 0.5 0.5 0.2 0.2", "out of range"),
        ("3 0.5 0.5 1.4 0.2", "normalised"),
        ("3 0.95 0.5 0.2 0.2", "outside the image"),
    ],
)
def test_bad_yolo_line_names_file_and_line(tmp_path, line, needle):
    root = tmp_path / "yolo"
    write_yolo(_pages(tmp_path, 1), root)
    label = root / "labels" / "p0.txt"
    label.write_text(label.read_text() + line + "\n")
    with pytest.raises(ImportFormatError) as err:
        read_yolo(root)
    assert "labels/p0.txt: line 4" in str(err.value) and needle in str(err.value)


def test_yolo_unknown_class_name_and_orphan_label(tmp_path):
    root = tmp_path / "yolo"
    write_yolo(_pages(tmp_path, 1), root)
    (root / "data.yaml").write_text("train: images\nnames: [cat, '1']\n")
    (root / "labels" / "p0.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(ImportFormatError, match=r"p0.txt: line 1: class 0 is not a digit"):
        read_yolo(root)
    (root / "labels" / "p0.txt").write_text("1 0.5 0.5 0.1 0.1\n")
    (root / "labels" / "ghost.txt").write_text("1 0.5 0.5 0.1 0.1\n")
    with pytest.raises(ImportFormatError, match=r"ghost.txt: no image file"):
        read_yolo(root)


def test_folders_refuses_unknown_label_folder(tmp_path):
    (tmp_path / "crops" / "cat").mkdir(parents=True)
    with pytest.raises(ImportFormatError, match=r"crops/cat: label 'cat'"):
        read_folders(tmp_path / "crops")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportFormatError, match="no crops"):
        read_folders(tmp_path / "empty")


def test_written_files_are_readable_by_all_and_no_temp_files_remain(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / "yolo"
        yaml = write_yolo(_pages(tmp_path), out)
        write_folders(_pages(tmp_path), tmp_path / "crops")
    finally:
        os.umask(old)
    files = [p for root in (out, tmp_path / "crops") for p in root.rglob("*") if p.is_file()]
    assert yaml in files and any(p.suffix == ".png" for p in files)
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o644}  # not mkstemp's 0600
    assert not [p for p in files if p.name.startswith(".")]


@pytest.mark.parametrize(
    "splits",
    [
        "train: [images/train, images/val]\n",
        "train:\n  - images/train\n  - images/val  # both\n",
        "train: images/train\nval: images/val\n",
        "train: |\n  images/train\nval: >-\n  'images/val'\n",  # blocks of text
    ],
)
def test_yolo_yaml_forms_ultralytics_writes(tmp_path, splits):
    # folders as a list or a block, and a download script block that is not ours to read
    root = tmp_path / "ds"
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        Image.new("RGB", (40, 30), "white").save(root / "images" / split / f"{split}.png")
        (root / "labels" / split / f"{split}.txt").write_text("3 0.5 0.5 0.25 0.5\n")
    yaml = "path: .\n" + splits + "names: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, not_digit]\n"
    yaml += "download: |\n  from utils import fetch\n  fetch('x: y')\n"
    (root / "data.yaml").write_text(yaml)
    got = read_yolo(root / "data.yaml")
    assert sorted(Path(i.path).name for i in got) == ["train.png", "val.png"]
    assert all([a.label for a in i.annotations] == ["3"] for i in got)


def test_a_yolo_yaml_block_of_text_that_is_no_folder_is_refused(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "data.yaml").write_text("train: |\n  images/train\n  images/val\n")
    with pytest.raises(ImportFormatError, match=r"^data\.yaml: train: expected one folder"):
        read_yolo(tmp_path / "data.yaml")


def test_a_flat_yolo_dataset_reads_its_own_folder_only(tmp_path):
    # labels beside the images: other folders (old labels, a run's outputs) are not its own
    root = tmp_path / "flat"
    (root / "old").mkdir(parents=True)
    (root / "runs").mkdir()
    Image.new("RGB", (40, 30), "white").save(root / "a.png")
    (root / "a.txt").write_text("7 0.5 0.5 0.25 0.5\n")
    (root / "old" / "b.txt").write_text("1 0.5 0.5 0.25 0.5\n")
    Image.new("RGB", (40, 30), "white").save(root / "runs" / "pred.png")
    (root / "data.yaml").write_text("path: .\ntrain: .\nnames: [0,1,2,3,4,5,6,7,8,9,not_digit]\n")
    got = read_yolo(root / "data.yaml")
    assert [(Path(i.path).name, [a.label for a in i.annotations]) for i in got] == [
        ("a.png", ["7"])
    ]
