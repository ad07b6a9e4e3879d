"""Exceptions. A :class:`DigitpadError` is a user-facing failure whose ``str`` is one clear line.

The CLI turns it into ``digitpad: error: <line>`` and a non-zero exit; the app turns it into a
dialog. Anything that is *not* a DigitpadError is a bug and may show a traceback, but for an
``OSError`` that reaches the CLI (a full disk, an output path that is a folder): the person can
act on that, so it is one line too (:func:`os_error_line`).
"""

from __future__ import annotations

import os

NAME_SHOWN = 120  # characters of a file's name an error line shows at most


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


class ActiveModelChanged(ModelError):
    """Another model was made active since the caller read which one was (a rollback made
    while a retrain ran): the retrain's candidate was judged against the model before."""


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


def os_error_line(exc: OSError) -> str:
    """``exc`` as one line: its reason, and the file when it names one (a name too long to
    read, itself the reason at times, shortened in the middle)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if not exc.filename:
        return " ".join(reason.split())
    name = os.fsdecode(exc.filename)
    if len(name) > NAME_SHOWN:
        name = f"{name[: NAME_SHOWN // 2]}...{name[-NAME_SHOWN // 2 :]}"
    return " ".join(f"{reason}: {name}".split())
