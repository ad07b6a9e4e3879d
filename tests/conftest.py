"""Shared fixtures. Every test gets its own data home so no test touches the checkout's data."""

from __future__ import annotations

from pathlib import Path

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
