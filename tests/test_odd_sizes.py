"""The odd-size benchmark reads each set as generated and cut to odd sides."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.odd_sizes import CUTS, main


def test_odd_sizes_reports_both_readings_of_every_set(tmp_path: Path) -> None:
    out = tmp_path / "odd_sizes.json"
    assert main(["--seeds", "9600000", "--pages", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    for name in CUTS:
        sets = result[name]["sets"]
        assert list(sets) == ["9600000"]
        assert 0.0 <= sets["9600000"]["page_exact"] <= 1.0
        assert result[name]["mean_box_f1"] == sets["9600000"]["box_f1"]


def test_odd_sizes_bad_model_is_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "odd_sizes.json"
    assert main(["--model", str(tmp_path / "none.onnx"), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("odd_sizes:") and "\n" not in err and not out.exists()
