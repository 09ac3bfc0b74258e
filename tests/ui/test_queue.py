"""The app's fair line of training runs (no browser): slots, places, runs that start by
themselves, cancelling one's own run only, and pages that close."""

from __future__ import annotations

import threading
import time

import pytest

from nablanet.ui.errors import UIError
from nablanet.ui.queue import RunQueue

CONFIG = {"training": {"epochs": 3}}


class Gates:
    """A ``train_fn`` whose runs each wait for their owner's gate (or a stop)."""

    def __init__(self):
        self.gates: dict[str, threading.Event] = {}
        self.started: list[str] = []

    def __call__(self, config, callbacks, stop_event):
        owner = config["owner"]
        self.started.append(owner)
        cb = callbacks[0]
        cb.on_train_begin({})
        gate = self.gates.setdefault(owner, threading.Event())
        epoch = 0
        while not gate.is_set() and not stop_event.is_set():
            cb.on_epoch_begin(epoch, {})
            cb.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
            epoch += 1
            time.sleep(0.01)
        cb.on_train_end({})

    def release(self, owner: str) -> None:
        self.gates.setdefault(owner, threading.Event()).set()


def config(owner: str) -> dict:
    return {**CONFIG, "owner": owner}


def wait_until(condition, what: str, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"not {what} after {timeout} s")


@pytest.fixture
def gates():
    g = Gates()
    yield g
    for event in g.gates.values():
        event.set()


def test_runs_wait_for_a_slot_and_start_by_themselves(gates):
    line = RunQueue(gates, slots=2)
    tickets = {name: line.submit(name, config(name)) for name in ("a", "b", "c", "d")}
    wait_until(lambda: sorted(gates.started) == ["a", "b"], "a and b training")
    assert line.snapshot("c").status == "queued" and line.snapshot("c").position == 1
    assert line.snapshot("d").position == 2
    assert "number 2 in the line" in line.snapshot("d").message
    before = line.snapshot("d").version
    gates.release("b")
    line.join(tickets["b"].id, 5)
    assert line.wait_started(tickets["c"].id, 5)  # nobody pressed anything
    wait_until(lambda: line.snapshot("d").position == 1, "d to move up")
    assert line.snapshot("d").version != before  # the page redraws
    assert line.snapshot("b").status == "finished"
    assert line.snapshot("a").status == "training" and line.n_running == 2


def test_one_run_per_person_at_a_time(gates):
    line = RunQueue(gates, slots=1)
    line.submit("a", config("a"))
    line.submit("b", config("b"))
    for owner in ("a", "b"):
        with pytest.raises(UIError, match=r"still (training|waiting)"):
            line.submit(owner, config(owner))
    gates.release("a")
    wait_until(lambda: line.snapshot("a").status == "finished", "a finished")
    ticket = line.submit("a", config("a"))  # after the end of one's run: again, at the end
    assert line.position(ticket.id) == 1


def test_only_the_owner_cancels_and_the_line_moves_up(gates):
    line = RunQueue(gates, slots=1)
    a = line.submit("a", config("a"))
    b = line.submit("b", config("b"))
    c = line.submit("c", config("c"))
    for victim in (a, b):
        with pytest.raises(UIError, match="not yours"):
            line.cancel("c", victim.id)
    assert line.snapshot("a").status in ("preparing", "training")
    assert line.position(b.id) == 1
    assert "left the line" in line.cancel("b")
    assert line.snapshot("b").status == "cancelled"
    assert line.position(c.id) == 1
    assert line.cancel("a").startswith("Stopping")  # one's own running run stops
    assert line.wait_started(c.id, 5)
    line.join(a.id, 5)
    assert line.snapshot("a").status == "stopped"
    assert "b" not in gates.started


def test_a_closed_page_frees_its_place_and_its_slot(gates):
    line = RunQueue(gates, slots=1, abandon_timeout=0.3)
    a = line.submit("a", config("a"))
    b = line.submit("b", config("b"))
    c = line.submit("c", config("c"))
    line.abandon("b")  # waiting: leaves the line at once
    assert line.position(c.id) == 1 and line.position(b.id) == 0
    t0 = time.monotonic()
    line.abandon("a")  # training and never released: stopped after the timeout
    assert line.snapshot("a").status == "training"
    assert line.wait_started(c.id, 5)
    assert time.monotonic() - t0 >= 0.25
    line.join(a.id, 5)
    assert line.snapshot("a").status == "idle"  # forgotten: nobody looks at it again
    assert gates.started == ["a", "c"]


def test_a_run_that_ends_before_the_timeout_is_not_stopped(gates):
    line = RunQueue(gates, slots=1, abandon_timeout=30)
    a = line.submit("a", config("a"))
    line.submit("b", config("b"))
    line.abandon("a")
    gates.release("a")
    line.join(a.id, 5)
    wait_until(lambda: line.snapshot("b").status == "training", "b training")


def test_a_failing_run_frees_its_slot():
    def broken(config, callbacks, stop_event):
        if config["owner"] == "a":
            raise ValueError("bad settings")

    line = RunQueue(broken, slots=1)
    line.submit("a", config("a"))
    b = line.submit("b", config("b"))
    assert line.wait_started(b.id, 5)
    line.join(b.id, 5)
    assert line.snapshot("a").status == "failed" and "bad settings" in line.snapshot("a").message
    assert line.snapshot("b").status == "finished"


@pytest.mark.parametrize(("slots", "timeout"), [(0, 1.0), (True, 1.0), (1, -1.0)])
def test_bad_settings_are_refused(slots, timeout):
    with pytest.raises(UIError):
        RunQueue(slots=slots, abandon_timeout=timeout)
