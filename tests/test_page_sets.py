"""The fresh-page-set benchmark: per-set exact share and box F1, and a clean error for a bad
model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.page_sets import main


def test_page_sets_reports_every_set_and_their_mean(tmp_path: Path) -> None:
    out = tmp_path / "page_sets.json"
    assert main(["--seeds", "9600000", "9700000", "--pages", "3", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    sets = result["sets"]
    assert list(sets) == ["9600000", "9700000"] and result["pages_per_set"] == 3
    exact = [s["page_exact"] for s in sets.values()]
    assert all(0.0 <= e <= 1.0 for e in exact)
    assert result["mean_page_exact"] == round(sum(exact) / 2, 5)


def test_page_sets_bad_model_is_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "page_sets.json"
    assert main(["--model", str(tmp_path / "none.onnx"), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("page_sets:") and "\n" not in err and not out.exists()


def test_page_sets_refuses_no_pages(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--pages", "0"])
    assert stop.value.code == 2
    assert "--pages" in capsys.readouterr().err.strip().splitlines()[-1]
