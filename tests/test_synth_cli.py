"""``digitpad synth``: datasets other tools can read, the contact sheet, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from digitpad.cli import main
from digitpad.formats import coco_schema_errors, read_coco, read_yolo
from digitpad.types import CLASSES


def test_coco_dataset_validates(tmp_path):
    out = tmp_path / "coco"
    assert (
        main(["synth", "--pages", "3", "--out", str(out), "--seed", "4", "--size", "320x240"]) == 0
    )
    doc = json.loads((out / "annotations.json").read_text())
    assert coco_schema_errors(doc) == []
    assert [c["name"] for c in doc["categories"]][:10] == list("0123456789")
    assert len(doc["images"]) == 3
    for img in doc["images"]:
        assert (img["width"], img["height"]) == (320, 240)
        assert (out / "images" / img["file_name"]).is_file()
    for ann in doc["annotations"]:
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 320 and y + h <= 240
        assert {"id", "image_id", "category_id", "area", "iscrowd"} <= set(ann)
    back = read_coco(out)
    assert len(back) == 3 and sum(len(i.annotations) for i in back) == len(doc["annotations"])


def test_yolo_dataset_is_normalised(tmp_path):
    out = tmp_path / "yolo"
    rc = main(["synth", "--pages", "2", "--out", str(out), "--format", "yolo", "--size", "300x200"])
    assert rc == 0
    yaml = (out / "data.yaml").read_text()
    assert "names:" in yaml and "not_digit" in yaml
    lines = [ln for f in sorted((out / "labels").glob("*.txt")) for ln in f.read_text().split("\n")]
    lines = [ln for ln in lines if ln]
    assert lines
    for ln in lines:
        k, *vals = ln.split()
        assert 0 <= int(k) < len(CLASSES)
        v = np.array([float(t) for t in vals])
        assert v.shape == (4,) and (v >= 0).all() and (v <= 1).all()
    assert len(read_yolo(out)) == 2


def test_same_seed_same_dataset(tmp_path):
    for name in ("a", "b"):
        assert (
            main(
                [
                    "synth",
                    "--pages",
                    "1",
                    "--out",
                    str(tmp_path / name),
                    "--seed",
                    "8",
                    "--size",
                    "200x150",
                ]
            )
            == 0
        )
    a = json.loads((tmp_path / "a" / "annotations.json").read_text())["annotations"]
    b = json.loads((tmp_path / "b" / "annotations.json").read_text())["annotations"]
    assert a == b
    ia = (tmp_path / "a" / "images" / "page_000000.png").read_bytes()
    assert ia == (tmp_path / "b" / "images" / "page_000000.png").read_bytes()


def test_contact_sheet(tmp_path):
    from PIL import Image

    path = tmp_path / "sheet.png"
    assert main(["synth", "--sheet", str(path)]) == 0
    img = np.asarray(Image.open(path))
    assert img.ndim == 3 and img.shape[0] >= 10 * 40 and img.min() < 80


@pytest.mark.parametrize(
    "argv",
    [
        ["synth"],
        ["synth", "--pages", "0", "--out", "X"],
        ["synth", "--pages", "2"],
        ["synth", "--pages", "2", "--out", "X", "--size", "big"],
        ["synth", "--pages", "2", "--out", "X", "--size", "10x10"],
        ["synth", "--pages", "2", "--out", "X", "--format", "voc"],
        ["synth", "--pages", "two", "--out", "X"],
        ["synth", "--sheet", "sheet.jpg"],
        ["synth", "--pages", "1", "--out", "X", "--touching-rate", "2"],
    ],
)
def test_bad_arguments_one_line_exit_2(argv, tmp_path, capsys):
    argv = [a if a != "X" else str(tmp_path / "out") for a in argv]
    with pytest.raises(SystemExit) as exc:
        sys.exit(main(argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitpad") and "error" in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_cli_process_exit_code(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "digitpad", "synth", "--pages", "-3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1


@pytest.mark.parametrize("argv", [["--pages", "1", "--out", ""], ["--sheet", " "]])
def test_an_empty_path_is_refused_not_the_current_folder(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["synth", *argv]) == 2
    assert "empty path" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_dataset_is_never_written_over_another(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["synth", "--pages", "2", "--out", str(out), "--size", "200x150"]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["synth", "--pages", "1", "--out", str(out), "--seed", "5"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    (tmp_path / "empty").mkdir()
    assert main(["synth", "--pages", "1", "--out", str(tmp_path / "empty")]) == 0


def test_an_output_that_cannot_be_written_is_one_line(tmp_path, capsys):
    (tmp_path / "adir.png").mkdir()
    (tmp_path / "afile").write_text("x")
    for argv in (
        ["--sheet", str(tmp_path / "adir.png")],
        ["--sheet", str(tmp_path / "afile" / "x.png")],
        ["--pages", "1", "--out", str(tmp_path / ("a" * 5000))],
    ):
        assert main(["synth", *argv]) in (1, 2)
        err = capsys.readouterr().err
        assert err.startswith("digitpad: error: ") and err.count("\n") == 1
