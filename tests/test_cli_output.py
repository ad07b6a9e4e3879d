"""The CLI's own output: a reader that goes away, a closed or full stdout, end in an exit code
and at most one line on stderr, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from digitpad.cli import EXIT_BROKEN_PIPE

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("out") / "blank.png"
    Image.new("L", (120, 80), 255).save(path)
    return path


def _digitpad(args: list[str], *, buffered: bool = True, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # with PYTHONUNBUFFERED (set on some machines) a print fails at once, else at the flush
    env.pop("PYTHONUNBUFFERED", None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "digitpad", *args], env=env, stderr=subprocess.PIPE, **kwargs
    )


@pytest.mark.parametrize("buffered", [True, False])
@pytest.mark.parametrize("also_missing", [False, True])
def test_a_reader_gone_away_ends_quietly_with_the_sigpipe_code(
    blank: Path, tmp_path: Path, buffered: bool, also_missing: bool
) -> None:
    # the pipe's reading end is closed before the command writes: its first write fails;
    # with a missing image too, the command has failed before its output is flushed
    images = [str(blank), str(blank)] + ([str(tmp_path / "missing.png")] if also_missing else [])
    read, write = os.pipe()
    os.close(read)
    proc = _digitpad(["recognise", *images, "--json"], buffered=buffered, stdout=write)
    os.close(write)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (EXIT_BROKEN_PIPE, b"")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("buffered", [True, False])
def test_a_full_disk_under_stdout_is_one_line(blank: Path, buffered: bool) -> None:
    with open("/dev/full", "wb") as full:
        proc = _digitpad(["recognise", str(blank)], buffered=buffered, stdout=full)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.decode().splitlines() == ["digitpad: error: No space left on device"]


def test_a_closed_stdout_reads_into_nothing(blank: Path) -> None:
    # what `digitpad recognise x.png >&-` does: no stdout at all for Python to print to
    code = (
        "import os, sys; os.close(1); sys.stdout = None; "
        "from digitpad.cli import main; raise SystemExit(main(['recognise', sys.argv[1]]))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(blank)], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""


def test_a_name_too_long_to_look_up_is_one_short_line(tmp_path: Path, capsys) -> None:
    from digitpad.cli import main
    from digitpad.errors import NAME_SHOWN

    name = str(tmp_path / ("a" * 5000))
    assert main(["--home", str(tmp_path / "home"), "import", name]) == 1
    err = capsys.readouterr().err
    assert err.startswith("digitpad: error: File name too long: ") and err.count("\n") == 1
    assert len(err) < NAME_SHOWN + 80
