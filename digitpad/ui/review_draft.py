"""A Save as the person asked for it, on its way to the correction store.

No tkinter here. It is taken on the Tk thread without copying the page; the worker that writes
the store makes the payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digitpad.types import BoxOutcome, ReviewPayload
from digitpad.ui.drawing import PageSnapshot


@dataclass(frozen=True)
class ReviewDraft:
    """A Save as the person asked for it, taken on the Tk thread without copying the page:
    :meth:`payload` (on the worker that writes the store) turns it into what is saved."""

    page: PageSnapshot
    source: str
    model_version: str
    started_at: float
    saved_at: float
    boxes: tuple[BoxOutcome, ...]
    _payload: list[ReviewPayload] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def payload(self) -> ReviewPayload:
        """The review with its page as it was at Save (made once; the page is read-only).

        A full copy of the page: call it off the Tk thread.
        """
        if not self._payload:
            image = self.page.array()
            image.flags.writeable = False  # the drawing may take it back as its base
            self._payload.append(
                ReviewPayload(
                    image=image,
                    source=self.source,
                    model_version=self.model_version,
                    started_at=self.started_at,
                    saved_at=self.saved_at,
                    boxes=self.boxes,
                )
            )
        return self._payload[0]

    @property
    def made(self) -> ReviewPayload | None:
        """The payload if :meth:`payload` has made it, else None (never copies the page)."""
        return self._payload[0] if self._payload else None
