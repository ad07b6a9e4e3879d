"""digitpad: read handwritten digits, correct them, retrain on the corrections.

The public library entry point is :func:`recognise`. It is imported lazily so that
``import digitpad`` stays cheap (the CLI and the app import it on every start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from digitpad.types import PageResult


def recognise(image: Any, *, model: Any = None) -> PageResult:
    """Find and read every digit in ``image`` (a path, a PIL image or a numpy array).

    See :func:`digitpad.recognise_service.recognise` for the full contract.
    """
    from digitpad.recognise_service import recognise as _recognise

    return _recognise(image, model=model)


__all__ = ["__version__", "recognise"]
