"""Shared fixtures. Every test gets its own data home so no test touches the checkout's data."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DIGITPAD_HOME", str(home))
    return home


@pytest.fixture
def home(_isolated_home):
    """A fresh, empty data home (also set as DIGITPAD_HOME)."""
    from digitpad.home import resolve_home

    return resolve_home(_isolated_home)


@pytest.fixture(scope="session")
def recogniser():
    """A recogniser with the shipped model, loaded once for the whole run (it keeps no state
    between pages)."""
    from digitpad.classifier import Classifier
    from digitpad.home import shipped_model_path
    from digitpad.recognise_service import Recogniser

    return Recogniser(Classifier.load(shipped_model_path()))


@pytest.fixture
def run_python() -> Callable[[str], str]:
    """Runs ``python -c CODE`` in a fresh process in the checkout (the test's data home in its
    environment) and returns its stripped stdout; fails the test with stderr if it exits non-zero.
    For what only a fresh process shows: which modules an import pulls in."""

    def run(code: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    return run


def _ink_map(*rects: tuple[int, int, int, int], size: tuple[int, int] = (60, 80)) -> np.ndarray:
    ink = np.zeros(size, np.uint8)
    for x0, y0, x1, y1 in rects:
        ink[y0:y1, x0:x1] = 255
    return ink


@pytest.fixture
def ink_map() -> Callable[..., np.ndarray]:
    """``ink_map(*(x0, y0, x1, y1), size=(h, w))``: a uint8 ink map (0 paper, 255 ink) with
    those rectangles inked, for tests of what the segmenter does with a box's strokes."""
    return _ink_map
