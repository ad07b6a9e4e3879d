"""The form-boxes benchmark reads its rows through the recogniser and writes its counts."""

from __future__ import annotations

import json

from benchmarks.form_boxes import CASES, STYLES, form_row, main


def test_one_row_per_case_is_read_and_counted(tmp_path) -> None:
    out = tmp_path / "form_boxes.json"
    assert main(["--rows", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    for key in ("right", "one_number"):
        assert set(result[key]) == set(CASES)
        assert all(set(v) == set(STYLES) for v in result[key].values())
    # one row each: a case's count is 0 or 1, and read as one number implies read right
    assert result["right"]["inside_black"]["cells"] == 1  # a frame's walls read as no 1s
    for case in CASES:
        for style in STYLES:
            assert result["one_number"][case][style] <= result["right"][case][style] <= 1


def test_the_same_digits_whatever_the_frame() -> None:
    pages = [form_row(5, "touching_grey", style) for style in STYLES]
    assert len({want for _, want in pages}) == 1
    assert not (pages[0][0] == pages[1][0]).all()  # the frame is drawn


def test_a_missing_model_is_one_line_and_exit_1(tmp_path, capsys) -> None:
    out = tmp_path / "fb.json"
    assert main(["--model", str(tmp_path / "none.onnx"), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"form_boxes: model file not found: {tmp_path / 'none.onnx'}"]
    assert not out.exists()


def test_a_result_that_cannot_be_written_is_one_line_and_exit_1(tmp_path, capsys) -> None:
    # --out names a folder: the rows are read, then the write fails with one line
    assert main(["--rows", "1", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"form_boxes: cannot write {tmp_path}")
