"""Retraining from the window: start the child process, show its progress, cancel it, and swap
the new model in without a restart when it is promoted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from digitpad.errors import DigitpadError
from digitpad.ui import services
from digitpad.ui.jobs import RetrainJob, RetrainOutcome, describe_progress, retrain_argv
from digitpad.ui.trace import trace

if TYPE_CHECKING:
    from digitpad.ui.app import App


class RetrainControl:
    """Owns at most one retrain process; talks to the person through the app's status bar."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.job: RetrainJob | None = None
        self._verdict = ""

    @property
    def running(self) -> bool:
        """Whether a retrain process is running."""
        return self.job is not None

    def start(self) -> None:
        """Start ``digitpad retrain --progress json`` for the app's home.

        Raises:
            DigitpadError: the process cannot be started.
        """
        job = RetrainJob(self.app.jobs.events, retrain_argv(self.app.home.root))
        job.start()
        self.job = job
        self.app.status.show_progress(None, "starting")
        self.app.status.say("Retraining in the background: keep working")
        trace("retrain_started", argv=job.argv)

    def cancel(self) -> None:
        """SIGTERM: the child stops cleanly and leaves the active model alone. Safe once the
        window is gone (the app cancels again on its way out)."""
        if self.job is not None:
            self.job.cancel()
            if not self.app.closed:
                self.app.status.show_progress(None, "cancelling")

    def on_retrain_progress(self, event: dict[str, Any]) -> None:
        if self.job is None or event.get("phase") in ("done", "failed"):
            return  # the exit event reports the verdict
        if event.get("phase") == "warning":
            self.app.status.say(str(event.get("message", "")))
            return
        self.app.status.show_progress(*describe_progress(event))

    def on_retrain_exit(self, outcome: RetrainOutcome) -> None:
        self.job = None
        status = self.app.status
        status.hide_progress()
        trace("retrain_exit", ok=outcome.ok, promoted=outcome.promoted, message=outcome.message)
        verdict = outcome.verdict
        if verdict == "promoted":
            self._verdict = outcome.message
            status.say(f"{outcome.message} · loading {outcome.version or 'the new model'}…")
            self.app.jobs.start("reload", services.load_classifier, self.app.home)
        elif verdict == "info":
            # e.g. "not promoted: digit 4 fell from 97.1% to 93.0%", or nothing to learn yet:
            # outcomes, not errors, so a calm status line rather than a dialog.
            status.say(outcome.message)
        else:
            self.app.show_error(DigitpadError(outcome.message))

    def on_reload_done(self, payload: tuple[Any, Any]) -> None:
        classifier, warning = payload[1]
        app = self.app
        if app.recogniser is None:
            app.start_model_load()
        else:
            app.recogniser.classifier = classifier  # the next recognise uses the new model
        app.status.say(warning or f"Model {classifier.version} is now in use · {self._verdict}")
        trace("model", version=classifier.version)
        app.accuracy.show_counter()

    def on_reload_failed(self, payload: tuple[Any, BaseException]) -> None:
        self.app.show_error(payload[1])
