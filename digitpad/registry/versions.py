"""Model version numbers and the :class:`ModelEntry` record the registry hands out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitpad.errors import ModelError

STATUSES: tuple[str, ...] = ("active", "candidate", "retired", "broken")
SHIPPED_VERSION = 1


class ModelFallbackWarning(UserWarning):
    """The active model could not be used; an older good one is used instead."""


def version_name(version: int) -> str:
    """The display form of a version number: 3 -> "v3"."""
    return f"v{int(version)}"


def parse_version(text: str | int) -> int:
    """ "v3", "3" or 3 -> 3.

    Raises:
        ModelError: not a version.
    """
    if isinstance(text, int):
        number = text
    else:
        # nine digits at most: a billion versions is plenty, and int() refuses 4,300 digits
        m = re.fullmatch(r"\s*[vV]?(\d{1,9})\s*", str(text))
        if not m:
            shown = str(text) if len(str(text)) <= 24 else f"{str(text)[:20]}..."
            raise ModelError(f"{shown!r} is not a model version (expected e.g. v2 or 2)")
        number = int(m.group(1))
    if number < 1:
        raise ModelError(f"{text!r} is not a model version (versions start at v1)")
    return number


@dataclass(frozen=True)
class ModelEntry:
    """One model version as the registry knows it.

    ``warning`` is set only on the entry returned by :meth:`ModelRegistry.active` when it had to
    fall back from the recorded active version; the CLI and the app show it.
    """

    version: int
    path: Path
    checkpoint_path: Path | None
    status: str
    parent: int | None = None
    created: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    data_counts: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None
    size: int | None = None
    message: str = ""
    warning: str | None = None

    @property
    def name(self) -> str:
        return version_name(self.version)

    @property
    def shipped(self) -> bool:
        return self.version == SHIPPED_VERSION
