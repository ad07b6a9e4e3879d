"""Exceptions. A :class:`DigitpadError` is a user-facing failure whose ``str`` is one clear line.

The CLI turns it into ``digitpad: error: <line>`` and a non-zero exit; the app turns it into a
dialog. Anything that is *not* a DigitpadError is a bug and may show a traceback.
"""

from __future__ import annotations


class DigitpadError(Exception):
    """A failure the user can understand and act on. ``str(err)`` is one line."""

    exit_code: int = 1

    def __str__(self) -> str:
        text = super().__str__()
        return " ".join(text.split())  # always one line, whatever the caller formatted


class UsageError(DigitpadError):
    """Bad command-line arguments (exit code 2, like argparse)."""

    exit_code = 2


class ImageError(DigitpadError):
    """An image that cannot be read, is too large, or is a decompression bomb."""


class ModelError(DigitpadError):
    """A model file that is missing, corrupt or of the wrong shape."""


class StoreError(DigitpadError):
    """The correction store cannot do what was asked."""


class StoreBusyError(StoreError):
    """Another process held the store for longer than we were willing to wait."""


class StoreVersionError(StoreError):
    """The store was written by a newer digitpad; we refuse to touch it."""


class ImportFormatError(DigitpadError):
    """A COCO/YOLO/folders dataset that is malformed. The message names the file and entry."""


class TrainingError(DigitpadError):
    """Retraining could not run (no corrections, cancelled, no data...)."""
