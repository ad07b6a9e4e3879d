"""Where digitpad keeps its data: ``<home>/corrections/`` and ``<home>/models/``.

Resolution order: an explicit ``--home DIR``, then ``DIGITPAD_HOME``, then the checkout root when
running from a source checkout (so the top-level ``corrections/`` and ``models/`` are used), else a
per-user data directory (``$XDG_DATA_HOME/digitpad`` or ``~/.local/share/digitpad``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from digitpad.errors import UsageError

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_ROOT = PACKAGE_DIR.parent
SHIPPED_MODEL_NAME = "digitpad-v1.onnx"


def _is_checkout(root: Path) -> bool:
    return (root / "pyproject.toml").is_file() and (root / "models").is_dir()


@dataclass(frozen=True)
class Home:
    """The resolved data home and the paths inside it."""

    root: Path

    @property
    def corrections_dir(self) -> Path:
        return self.root / "corrections"

    @property
    def store_path(self) -> Path:
        return self.corrections_dir / "digitpad.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"


def shipped_model_path() -> Path:
    """The model that ships with digitpad (version 1). It is never overwritten.

    In a source checkout it is the top-level ``models/``; an installed wheel carries it (and its
    ``.pt`` checkpoint) in ``<prefix>/share/digitpad/models/``, declared as data files in
    ``pyproject.toml``. The checkout wins. When no copy exists the checkout path is returned,
    and loading it reports the file missing.
    """
    for folder in shipped_model_dirs():
        if (folder / SHIPPED_MODEL_NAME).is_file():
            return folder / SHIPPED_MODEL_NAME
    return CHECKOUT_ROOT / "models" / SHIPPED_MODEL_NAME


def shipped_model_dirs() -> list[Path]:
    """Where the shipped model may live, in the order they are tried: the checkout's
    ``models/``, then the data folders of this interpreter's installation and of the user's."""
    import site
    import sysconfig

    share = Path("share", "digitpad", "models")
    return [
        CHECKOUT_ROOT / "models",
        Path(sysconfig.get_path("data")) / share,
        Path(site.getuserbase()) / share,
    ]


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Home:
    """Resolve the data home and create its folders.

    Raises:
        UsageError: the chosen directory is an empty path (or ``DIGITPAD_HOME`` a blank one),
            exists but is not a directory, or cannot be created.
    """
    if explicit is not None:
        if not str(explicit).strip():  # Path("") is the current folder: never a silent choice
            raise UsageError("the data home is an empty path")
        root = Path(explicit)
    elif os.environ.get("DIGITPAD_HOME"):
        # set but blank is a mistake (a folder named " " in the current one); empty is unset
        if not os.environ["DIGITPAD_HOME"].strip():
            raise UsageError("DIGITPAD_HOME is a blank path")
        root = Path(os.environ["DIGITPAD_HOME"])
    elif _is_checkout(CHECKOUT_ROOT):
        root = CHECKOUT_ROOT
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        root = Path(base) / "digitpad"
    root = root.expanduser().resolve()
    home = Home(root)
    try:
        home.corrections_dir.mkdir(parents=True, exist_ok=True)
        home.models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot use {root} as the data home: {exc.strerror or exc}") from exc
    return home
