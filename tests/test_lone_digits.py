"""The lone-digit benchmark: pages of one digit per source, the model against its classifier
alone, and a clean error for a missing model."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.lone_digits import SOURCES, lone_pages, main


def test_lone_pages_hold_one_digit_and_are_seeded() -> None:
    for source in SOURCES:
        pages = lone_pages(source, 3)
        assert [sum(a.is_digit for a in p.annotations) for p in pages] == [1, 1, 1]
        again = lone_pages(source, 3)
        assert all((a.image == b.image).all() for a, b in zip(pages, again, strict=True))
    a, b = lone_pages("sklearn", 1)[0].image, lone_pages("hershey", 1)[0].image
    assert a.shape != b.shape or not (a == b).all()  # each source has its own seeds


def test_lone_digits_reads_with_and_without_the_stage(tmp_path: Path) -> None:
    out = tmp_path / "lone.json"
    assert main(["--pages", "4", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    for reader in ("model", "classifier_alone"):
        assert set(result[reader]) == set(SOURCES)
        assert all(0.0 <= v <= 1.0 for v in result[reader].values())
    assert result["mean"]["model"] > 0.5  # the shipped model reads most lone digits


def test_lone_digits_missing_model_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["--model", str(tmp_path / "none.onnx"), "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("lone_digits:") and "\n" not in err
