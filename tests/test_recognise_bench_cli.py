"""The latency and accuracy benchmark's command line refuses a model it cannot load at once."""

from __future__ import annotations

from benchmarks.recognise_bench import main


def test_a_missing_model_is_one_line_and_exit_1(tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    assert main(["--model", str(tmp_path / "none.onnx"), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"recognise_bench: model file not found: {tmp_path / 'none.onnx'}"]
    assert not out.exists()
