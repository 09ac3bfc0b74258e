"""A fair line of training runs for one served app: many people, a few slots.

Every browser session (Gradio's ``session_hash``) is an *owner*. An owner has at most one run
in the line or training at a time; :meth:`RunQueue.submit` starts it at once when one of the
``slots`` is free and nobody waits, else puts it at the end of the line. When a run ends
(finished, stopped, failed) the first run of the line starts by itself. An owner can cancel
its own run, queued (it leaves the line) or training (it stops after the current batch and
keeps its best weights), never another owner's. When a page closes (:meth:`RunQueue.abandon`)
its queued run leaves the line at once and its training run may go on for
``abandon_timeout`` seconds, then is stopped, so it frees its slot in any case; the run's
directory is kept, like every run's.

>>> import threading
>>> gate = threading.Event()
>>> def train(config, callbacks, stop_event):
...     gate.wait(5)
>>> line = RunQueue(train, slots=1)
>>> a = line.submit("alice", {"training": {"epochs": 1}})
>>> b = line.submit("bob", {"training": {"epochs": 1}})
>>> line.snapshot("alice").status, line.snapshot("bob").status, line.position(b.id)
('preparing', 'queued', 1)
>>> line.cancel("alice", b.id)
Traceback (most recent call last):
...
nablanet.ui.errors.UIError: This run is not yours: only the person who started it can cancel it.
>>> gate.set()
>>> line.join(a.id, 5)
>>> line.wait_started(b.id, 5)
True
>>> line.join(b.id, 5)
>>> line.snapshot("bob").status
'finished'
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import UIError
from .session import DONE, Snapshot, TrainFn, TrainingSession

#: seconds a training run whose page was closed may go on before it is stopped (10 minutes)
DEFAULT_ABANDON_TIMEOUT = 600.0


@dataclass
class Ticket:
    """One person's run: waiting in the line, then training in its own :class:`TrainingSession`.

    Attributes
    ----------
    id : int
        Increases with every submission (the line is in this order).
    owner : str
        The browser session that submitted it.
    config : dict
        The run config (plain data).
    steps_per_epoch : int or None
        The estimate given to the session when it starts.
    session : TrainingSession or None
        Set when the run leaves the line and starts.
    cancelled : bool
        Cancelled while it waited (it never started).
    abandoned : bool
        Its page was closed.
    """

    id: int
    owner: str
    config: dict[str, Any]
    steps_per_epoch: int | None = None
    session: TrainingSession | None = None
    cancelled: bool = False
    abandoned: bool = False
    started: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def waiting(self) -> bool:
        return self.session is None and not self.cancelled

    @property
    def active(self) -> bool:
        """Waiting or training (not yet done)."""
        if self.cancelled:
            return False
        return self.session is None or self.session.status not in DONE


class RunQueue:
    """The line of training runs of one app (see the module docstring).

    Parameters
    ----------
    train_fn : callable
        ``train_fn(config, callbacks, stop_event)``, given to each run's
        :class:`TrainingSession`.
    slots : int
        Runs that may train at the same time (``nablanet ui --max-concurrent-runs``).
    abandon_timeout : float
        Seconds a training run may go on after its page closed, then it is stopped.
    """

    def __init__(
        self,
        train_fn: TrainFn | None = None,
        slots: int = 1,
        abandon_timeout: float = DEFAULT_ABANDON_TIMEOUT,
    ):
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise UIError(
                f"The number of concurrent runs must be a positive integer, got {slots!r}."
            )
        if abandon_timeout < 0:
            raise UIError(f"The abandoned-run timeout must be >= 0 seconds, got {abandon_timeout}.")
        self.train_fn = train_fn
        self.slots = slots
        self.abandon_timeout = float(abandon_timeout)
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._line: deque[Ticket] = deque()
        self._running: list[Ticket] = []
        self._latest: dict[str, Ticket] = {}  # owner -> their last ticket
        self._version = 0  # moves whenever the line moves

    # -- what people do -----------------------------------------------------------------------
    def submit(
        self, owner: str, config: Mapping[str, Any], steps_per_epoch: int | None = None
    ) -> Ticket:
        """Put ``owner``'s run in the line (it starts at once when a slot is free).

        Raises
        ------
        UIError
            When ``owner`` already has a run waiting or training.
        """
        with self._lock:
            self._reap()
            mine = self._latest.get(owner)
            if mine is not None and mine.active:
                what = "waiting in the line" if mine.waiting else "training"
                raise UIError(f"Your run is still {what}: stop it (or cancel it) first.")
            ticket = Ticket(next(self._ids), owner, dict(config), steps_per_epoch)
            self._latest[owner] = ticket
            self._line.append(ticket)
            self._version += 1
            self._fill()
            return ticket

    def cancel(self, owner: str, ticket_id: int | None = None) -> str:
        """Cancel ``owner``'s run (by default their latest): a waiting run leaves the line, a
        training run stops after the current batch. Returns what happened, for the page.

        Raises
        ------
        UIError
            When the run is someone else's.
        """
        with self._lock:
            ticket = self._find(ticket_id) if ticket_id is not None else self._latest.get(owner)
            if ticket is None:
                return "Nothing to cancel."
            if ticket.owner != owner:
                raise UIError(
                    "This run is not yours: only the person who started it can cancel it."
                )
            if ticket.waiting:
                ticket.cancelled = True
                self._line.remove(ticket)
                self._version += 1
                return "Cancelled: your run left the line."
            if ticket.session is not None and ticket.session.stop():
                return "Stopping after the current batch…"
            return "Nothing is training."

    def abandon(self, owner: str) -> None:
        """``owner``'s page closed: their waiting run leaves the line; their training run is
        stopped after ``abandon_timeout`` seconds unless it ends before."""
        with self._lock:
            ticket = self._latest.get(owner)
            if ticket is None or not ticket.active:
                return
            ticket.abandoned = True
            if ticket.waiting:
                self.cancel(owner, ticket.id)
                return
            session = ticket.session
        if session is not None:
            timer = threading.Timer(self.abandon_timeout, session.stop)
            timer.daemon = True
            timer.start()

    # -- what pages show ----------------------------------------------------------------------
    def ticket(self, owner: str) -> Ticket | None:
        """``owner``'s latest run (None before their first)."""
        with self._lock:
            return self._latest.get(owner)

    def position(self, ticket_id: int) -> int:
        """1 for the first run of the line, 2 for the next...; 0 when not waiting."""
        with self._lock:
            for i, ticket in enumerate(self._line, start=1):
                if ticket.id == ticket_id:
                    return i
            return 0

    def snapshot(self, owner: str) -> Snapshot:
        """The Train tab's view of ``owner``'s run: its session's snapshot once it trains;
        ``queued`` (with the place in the line), ``cancelled`` or ``idle`` otherwise. The
        version says ``<ticket>:<phase>:<n>`` and changes whenever the view may have."""
        with self._lock:
            self._reap()
            ticket = self._latest.get(owner)
            if ticket is None:
                return Snapshot(version="idle")
            epochs = int((ticket.config.get("training") or {}).get("epochs") or 0)
            if ticket.cancelled:
                return Snapshot(
                    status="cancelled",
                    epochs=epochs,
                    message="Cancelled before it started.",
                    version=f"{ticket.id}:cancelled",
                )
            if ticket.session is None:
                place = self.position(ticket.id)
                going = len(self._running)
                ahead = place - 1
                message = (
                    f"Queued: your run is number {place} in the line "
                    f"({going} run{'s' if going != 1 else ''} training, {ahead} waiting "
                    f"before yours). It starts by itself when a slot is free."
                )
                return Snapshot(
                    status="queued",
                    epochs=epochs,
                    message=message,
                    position=place,
                    version=f"{ticket.id}:queued:{self._version}",
                )
            session = ticket.session
        snap = session.snapshot()
        snap.version = f"{ticket.id}:run:{snap.version}"
        return snap

    @property
    def n_waiting(self) -> int:
        with self._lock:
            return len(self._line)

    @property
    def n_running(self) -> int:
        with self._lock:
            self._reap()
            return len(self._running)

    # -- for tests and shutdown ---------------------------------------------------------------
    def wait_started(self, ticket_id: int, timeout: float | None = None) -> bool:
        ticket = self._find(ticket_id)
        return ticket is not None and ticket.started.wait(timeout)

    def join(self, ticket_id: int, timeout: float | None = None) -> None:
        ticket = self._find(ticket_id)
        if ticket is not None and ticket.session is not None:
            ticket.session.join(timeout)

    def stop_all(self) -> None:
        """Empty the line and stop every training run (the app is closing)."""
        with self._lock:
            for ticket in self._line:
                ticket.cancelled = True
            self._line.clear()
            running = list(self._running)
        for ticket in running:
            if ticket.session is not None:
                ticket.session.stop()

    # -- inside ---------------------------------------------------------------------------------
    def _find(self, ticket_id: int) -> Ticket | None:
        with self._lock:
            for ticket in itertools.chain(self._running, self._line, self._latest.values()):
                if ticket.id == ticket_id:
                    return ticket
            return None

    def _reap(self) -> None:
        """Forget the runs that ended and start the next ones (lock held)."""
        before = len(self._running)
        self._running = [t for t in self._running if t.active]
        for owner, ticket in list(self._latest.items()):
            if ticket.abandoned and not ticket.active:
                del self._latest[owner]  # nobody will look at it again
        if len(self._running) != before:
            self._version += 1
        self._fill()

    def _fill(self) -> None:
        """Start waiting runs while slots are free (lock held)."""
        while self._line and len(self._running) < self.slots:
            ticket = self._line.popleft()
            session = TrainingSession(train_fn=self.train_fn, on_done=self._on_done)
            ticket.session = session
            self._running.append(ticket)
            self._version += 1
            session.start(ticket.config, steps_per_epoch=ticket.steps_per_epoch)
            ticket.started.set()

    def _on_done(self, session: TrainingSession) -> None:
        """A run ended (its thread calls this): the next run of the line starts."""
        with self._lock:
            self._reap()


def owner_of(request: Any) -> str:
    """The owner key of a Gradio request: its browser session (one per open page)."""
    owner = getattr(request, "session_hash", None)
    if not owner:
        raise UIError("This page has no session (reload it).")
    return str(owner)


__all__ = ["DEFAULT_ABANDON_TIMEOUT", "RunQueue", "Ticket", "owner_of"]
