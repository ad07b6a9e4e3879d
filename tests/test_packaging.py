"""An installed wheel, not only a checkout, carries and finds the shipped model."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from digitpad import home
from digitpad.home import SHIPPED_MODEL_NAME

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT_NAME = Path(SHIPPED_MODEL_NAME).with_suffix(".pt").name


def test_shipped_model_found_in_the_installed_data_folder(tmp_path, monkeypatch) -> None:
    installed = tmp_path / "prefix" / "share" / "digitpad" / "models"
    installed.mkdir(parents=True)
    (installed / SHIPPED_MODEL_NAME).write_bytes(b"model")
    site_packages = tmp_path / "site-packages"  # a wheel install: no models/ beside the package
    monkeypatch.setattr(home, "CHECKOUT_ROOT", site_packages)
    monkeypatch.setattr(sysconfig, "get_path", lambda *a, **k: str(tmp_path / "prefix"))
    monkeypatch.setattr(site, "getuserbase", lambda: str(tmp_path / "user"))
    assert home.shipped_model_path() == installed / SHIPPED_MODEL_NAME

    checkout = site_packages / "models"  # a checkout's own copy wins
    checkout.mkdir(parents=True)
    (checkout / SHIPPED_MODEL_NAME).write_bytes(b"model")
    assert home.shipped_model_path() == checkout / SHIPPED_MODEL_NAME


def test_no_copy_anywhere_points_at_the_checkout(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(home, "CHECKOUT_ROOT", tmp_path / "nowhere")
    monkeypatch.setattr(sysconfig, "get_path", lambda *a, **k: str(tmp_path / "prefix"))
    monkeypatch.setattr(site, "getuserbase", lambda: str(tmp_path / "user"))
    assert home.shipped_model_path() == tmp_path / "nowhere" / "models" / SHIPPED_MODEL_NAME


def test_wheel_carries_the_shipped_model_and_checkpoint(tmp_path) -> None:
    # built from a copy, so the checkout gets no build/ or egg-info folders
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "digitpad", src / "digitpad", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    (src / "models").mkdir()
    for name in (SHIPPED_MODEL_NAME, CHECKPOINT_NAME):
        shutil.copy(ROOT / "models" / name, src / "models" / name)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", str(src), "--no-deps", "--no-build-isolation", "-w", str(dist)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("digitpad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in (SHIPPED_MODEL_NAME, CHECKPOINT_NAME):
        assert any(n.endswith(f".data/data/share/digitpad/models/{name}") for n in names), name
