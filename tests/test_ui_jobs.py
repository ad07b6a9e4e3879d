"""Background work for the app, without Tk: thread jobs, the retrain process runner, commands."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from digitpad.errors import DigitpadError
from digitpad.ui.commands import KEYMAP, Command, CommandSet
from digitpad.ui.jobs import (
    NOTHING_TO_LEARN,
    RETRAIN_NICENESS,
    Jobs,
    RetrainJob,
    RetrainOutcome,
    describe_progress,
    parse_progress_line,
    retrain_argv,
)
from digitpad.ui.retrain_control import RetrainControl


def _wait(jobs_queue, kind, timeout=30.0):
    """Collect events until one of ``kind`` arrives; returns (all events, that event)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = jobs_queue.get(timeout=0.1)
        except Exception:
            continue
        seen.append(event)
        if event[0] == kind:
            return seen, event
    raise AssertionError(f"no {kind} event; got {seen}")


def test_thread_job_reports_result_and_error_and_runs_one_at_a_time():
    jobs = Jobs()
    assert jobs.start("work", lambda a, b: (time.sleep(0.2), a + b)[1], 2, 3, tag="t1")
    assert not jobs.start("work", lambda: None)  # already running: refused
    assert jobs.busy("work")
    _, (_kind, (tag, result)) = _wait(jobs.events, "work.done")
    assert (tag, result) == ("t1", 5) and not jobs.busy("work")

    def boom():
        raise DigitpadError("model file is missing")

    jobs.start("work", boom)
    _, (_kind, (_, exc)) = _wait(jobs.events, "work.failed")
    assert str(exc) == "model file is missing"


def test_retrain_argv_is_exactly_the_contract(tmp_path):
    assert retrain_argv(tmp_path) == [
        sys.executable,
        "-m",
        "digitpad",
        "retrain",
        "--home",
        str(tmp_path),
        "--progress",
        "json",
    ]


def _fake_child(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(body))
    return [sys.executable, str(script)]


def test_retrain_job_streams_progress_and_reports_promotion(tmp_path):
    argv = _fake_child(
        tmp_path,
        """
        import json, sys
        print("a stray warning that is not json", flush=True)
        for i in range(3):
            print(json.dumps({"phase": "train", "epoch": i + 1, "step": i + 1, "total": 3,
                              "loss": 0.5 / (i + 1), "eta_s": 3 - i}), flush=True)
        print(json.dumps({"phase": "done", "version": "v2", "promoted": True,
                          "message": "v2 promoted: held-out 97.5% (was 95.0%)"}), flush=True)
        """,
    )
    jobs = Jobs()
    job = RetrainJob(jobs.events, argv)
    job.start()
    seen, (_, outcome) = _wait(jobs.events, "retrain.exit")
    progress = [payload for kind, payload in seen if kind == "retrain.progress"]
    assert [p["phase"] for p in progress] == ["train", "train", "train", "done"]
    assert outcome.ok and outcome.promoted and outcome.version == "v2"
    assert outcome.message == "v2 promoted: held-out 97.5% (was 95.0%)"
    assert not job.running


def test_retrain_job_not_promoted_and_failure_messages(tmp_path):
    argv = _fake_child(
        tmp_path,
        """
        import json
        print(json.dumps({"phase": "done", "version": 3, "promoted": False,
                          "message": "not promoted: digit 4 fell from 97.1% to 93.0%"}))
        """,
    )
    jobs = Jobs()
    RetrainJob(jobs.events, argv).start()
    _, (_, outcome) = _wait(jobs.events, "retrain.exit")
    assert outcome.ok and not outcome.promoted and outcome.version == "v3"
    assert outcome.message.startswith("not promoted: digit 4")

    argv = _fake_child(
        tmp_path,
        """
        import sys
        sys.stderr.write("digitpad: error: no corrections yet: save some reviews first\\n")
        sys.exit(1)
        """,
    )
    RetrainJob(jobs.events, argv).start()
    _, (_, outcome) = _wait(jobs.events, "retrain.exit")
    assert not outcome.ok
    assert outcome.message == "Retrain failed: no corrections yet: save some reviews first"


_NO_CORRECTIONS = {
    "phase": "failed",
    "reason": "no_corrections",
    "version": None,
    "promoted": False,
    "message": "no corrections yet: review some pages in the app and save them, then retrain",
}


def test_no_corrections_is_a_calm_outcome_not_an_error(tmp_path):
    argv = _fake_child(
        tmp_path,
        f"""
        import json
        print(json.dumps({{"phase": "data", "message": "reading corrections"}}), flush=True)
        print(json.dumps({_NO_CORRECTIONS!r}), flush=True)
        """,
    )
    jobs = Jobs()
    RetrainJob(jobs.events, argv).start()
    _, (_, outcome) = _wait(jobs.events, "retrain.exit")
    assert outcome.returncode == 0 and not outcome.ok and not outcome.promoted
    assert outcome.nothing_to_learn and outcome.verdict == "info"
    assert outcome.message == NOTHING_TO_LEARN


def test_verdicts_separate_outcomes_from_errors():
    def outcome(returncode, final, cancelled=False):
        return RetrainOutcome(returncode, final, cancelled, "")

    assert outcome(0, {"phase": "done", "promoted": True}).verdict == "promoted"
    assert outcome(0, {"phase": "done", "promoted": False}).verdict == "info"
    assert outcome(130, {"phase": "failed", "reason": "cancelled"}, True).verdict == "info"
    # The same reason with a failing exit code, or another reason, is a real failure.
    assert outcome(1, _NO_CORRECTIONS).verdict == "error"
    assert not outcome(1, _NO_CORRECTIONS).nothing_to_learn
    failed = outcome(1, {"phase": "failed", "reason": "error", "message": "disk full"})
    assert failed.verdict == "error" and failed.message == "disk full"
    assert outcome(0, None).verdict == "error"  # exited 0 without a verdict line


def test_a_cancel_that_comes_after_the_verdict_does_not_hide_it():
    # Cancel pressed as the retrain finished: the process was only exiting, the model switched
    # (helper-51: the app said "cancelled, the active model is unchanged" and kept the old one)
    done = {"phase": "done", "promoted": True, "version": 2, "message": "promoted v2 over v1"}
    for returncode in (0, -15):
        late = RetrainOutcome(returncode, done, True, "")
        assert late.verdict == "promoted" and late.version == "v2"
        assert late.message == "promoted v2 over v1"
    stopped = RetrainOutcome(-15, {"phase": "train", "epoch": 1}, True, "")
    assert stopped.verdict == "info" and not stopped.promoted
    assert stopped.message == "Retrain cancelled: the active model is unchanged"


class _StubStatus:
    def __init__(self):
        self.said: list[str] = []
        self.hidden = 0

    def say(self, text):
        self.said.append(text)

    def hide_progress(self):
        self.hidden += 1


class _StubApp:
    """Just what RetrainControl touches when a retrain ends (no Tk needed)."""

    def __init__(self):
        self.status = _StubStatus()
        self.errors: list[BaseException] = []
        self.jobs = Jobs()

    def show_error(self, exc):
        self.errors.append(exc)


def test_control_shows_nothing_to_learn_in_the_status_bar_and_errors_in_a_dialog():
    app = _StubApp()
    control = RetrainControl(app)  # type: ignore[arg-type]
    control.job = object()  # type: ignore[assignment]  # as if a retrain were running
    control.on_retrain_exit(RetrainOutcome(0, _NO_CORRECTIONS, False, ""))
    assert app.errors == [] and app.status.said == [NOTHING_TO_LEARN]
    assert app.status.hidden == 1 and not control.running

    failed = {"phase": "failed", "reason": "error", "message": "the store is locked"}
    control.on_retrain_exit(RetrainOutcome(1, failed, False, ""))
    assert [str(e) for e in app.errors] == ["the store is locked"]
    assert app.status.said == [NOTHING_TO_LEARN]


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no process priorities here")
def test_retrain_child_runs_at_lower_priority(tmp_path):
    parent = os.getpriority(os.PRIO_PROCESS, 0)
    argv = _fake_child(
        tmp_path,
        f"""
        import json, os, time
        # The parent lowers the priority right after the start; wait (bounded) to see it.
        deadline = time.monotonic() + 10
        while os.getpriority(os.PRIO_PROCESS, 0) == {parent} and time.monotonic() < deadline:
            time.sleep(0.01)
        nice = os.getpriority(os.PRIO_PROCESS, 0)
        print(json.dumps({{"phase": "done", "promoted": False, "message": str(nice)}}))
        """,
    )
    jobs = Jobs()
    RetrainJob(jobs.events, argv).start()
    _, (_, outcome) = _wait(jobs.events, "retrain.exit")
    assert int(outcome.message) == min(19, parent + RETRAIN_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, 0) == parent  # the app itself is untouched


def test_cancel_sends_sigterm_and_the_child_sees_it(tmp_path):
    marker = tmp_path / "got-sigterm"
    argv = _fake_child(
        tmp_path,
        f"""
        import json, signal, sys, time
        def stop(signum, frame):
            open({str(marker)!r}, "w").write("yes")
            print(json.dumps({{"phase": "failed", "reason": "cancelled"}}), flush=True)
            sys.exit(130)
        signal.signal(signal.SIGTERM, stop)
        print(json.dumps({{"phase": "train", "step": 0, "total": 100}}), flush=True)
        time.sleep(30)
        """,
    )
    jobs = Jobs()
    job = RetrainJob(jobs.events, argv)
    job.start()
    _wait(jobs.events, "retrain.progress")
    assert job.running
    t0 = time.monotonic()
    job.cancel()
    _, (_, outcome) = _wait(jobs.events, "retrain.exit")
    assert time.monotonic() - t0 < 15  # generous: the machine is shared
    assert marker.read_text() == "yes"
    assert outcome.cancelled and not outcome.ok
    assert outcome.message.startswith("Retrain cancelled")


def test_progress_lines_and_text():
    assert parse_progress_line("hello") is None
    assert parse_progress_line("{not json") is None
    assert parse_progress_line('{"no_phase": 1}') is None
    event = parse_progress_line(
        '{"phase": "train", "epoch": 2, "step": 5, "total": 20, '
        '"loss": 0.25, "val_acc": 0.9612, "eta_s": 75}'
    )
    fraction, text = describe_progress(event)
    assert fraction == pytest.approx(0.25)
    assert text == "train · epoch 2 · loss 0.250 · val 96.1% · ETA 1:15"
    assert describe_progress({"phase": "data"}) == (None, "data")


def test_commands_obey_testers_and_report_user_errors():
    errors: list[str] = []
    ran: list[str] = []
    state = {"enabled": False}
    commands = CommandSet(on_error=lambda exc: errors.append(str(exc)))
    commands.add(Command("save", "Save", lambda: ran.append("save"), lambda: state["enabled"]))

    def fail():
        raise DigitpadError("the store is busy")

    commands.add(Command("open", "Open", fail))
    assert not commands.run("save") and ran == []
    state["enabled"] = True
    assert commands.states() == {"save": True, "open": True}
    assert commands.run("save") and ran == ["save"]
    assert commands.run("open") and errors == ["the store is busy"]
    with pytest.raises(ValueError):
        commands.add(Command("save", "Save again", lambda: None))


def test_keymap_covers_the_issue_keys_once():
    keys = {s.keys for s in KEYMAP}
    for required in [
        "Tab",
        "Shift+Tab",
        "Delete",
        "Enter",
        "N",
        "Ctrl+Z",
        "Ctrl+Y",
        "Ctrl+S",
        "Ctrl+R",
        "?",
        *"0123456789",
        "←",
        "→",
        "↑",
        "↓",
    ]:
        assert required in keys, required
    sequences = [seq for s in KEYMAP for seq in s.sequences]
    assert len(sequences) == len(set(sequences))
