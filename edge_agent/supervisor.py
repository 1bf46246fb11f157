"""One supervisor for every long-lived thread of the agent: nothing dies silently.

Each loop (the feed, each outbox worker, housekeeping, the MQ client's connection
thread) handles the failures it expects itself (the core down, a delivery refused).
What escapes it (a :class:`~edge_agent.errors.StoreError`, a bug) ends up here: the
supervisor logs it at ERROR with the traceback and the thread's name, counts it
(``thread.restarts`` tagged ``thread:<name>``) and runs the loop again, on the same
thread, after a backoff (doubling from ``backoff_initial`` to ``backoff_max``).

A thread that dies more than ``max_restarts`` times within ``window`` seconds cannot
be kept alive: the supervisor logs why and calls ``on_give_up``, and the agent then
exits non-zero, so the service manager (systemd) restarts the whole process with a
fresh database connection. :attr:`Supervisor.healthy` is what the systemd watchdog
pings depend on (:mod:`edge_agent.sd_notify`).

A loop that returns has stopped on purpose (its ``close``); it is not restarted.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from edge_agent.ports import Metrics, NoMetrics

log = logging.getLogger("edge.supervisor")

#: the first wait before a died thread runs again (seconds; doubles up to the max)
RESTART_BACKOFF_INITIAL = 0.5
RESTART_BACKOFF_MAX = 30.0
#: more restarts than this within RESTART_WINDOW seconds: the thread cannot be kept alive
MAX_RESTARTS = 5
RESTART_WINDOW = 300.0


@dataclass(frozen=True)
class RestartPolicy:
    """How a died thread is restarted, and when it counts as beyond help."""

    max_restarts: int = MAX_RESTARTS
    window: float = RESTART_WINDOW
    backoff_initial: float = RESTART_BACKOFF_INITIAL
    backoff_max: float = RESTART_BACKOFF_MAX


class Supervisor:
    """Runs loops on named threads and restarts them when they raise."""

    def __init__(
        self,
        policy: RestartPolicy | None = None,
        *,
        metrics: Metrics | None = None,
        on_give_up: Callable[[str], None] | None = None,
    ) -> None:
        policy = policy or RestartPolicy()
        self._metrics: Metrics = metrics or NoMetrics()
        self._max_restarts = policy.max_restarts
        self._window = policy.window
        self._backoff_initial = policy.backoff_initial
        self._backoff_max = max(policy.backoff_max, policy.backoff_initial)
        self._on_give_up = on_give_up
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        #: threads whose loop returned (stopped on purpose)
        self._finished: set[str] = set()
        #: why a thread could not be kept alive (the first one), else ``None``
        self.failure: str | None = None
        #: restarts so far, by thread name
        self.restarts: dict[str, int] = {}

    def spawn(self, name: str, target: Callable[[], None]) -> threading.Thread:
        """Start ``target`` on a daemon thread called ``name``, supervised."""
        thread = threading.Thread(
            target=self._keep_alive, args=(name, target), name=name, daemon=True
        )
        with self._lock:
            self._threads[name] = thread
            self.restarts.setdefault(name, 0)
        thread.start()
        return thread

    def stop(self) -> None:
        """No more restarts (the agent is stopping); each loop is stopped by its owner."""
        self._stop.set()

    @property
    def healthy(self) -> bool:
        """Every supervised thread alive (or restarting), none given up on."""
        if self.failure is not None:
            return False
        with self._lock:
            return all(t.is_alive() or n in self._finished for n, t in self._threads.items())

    def _keep_alive(self, name: str, target: Callable[[], None]) -> None:
        deaths: deque[float] = deque()
        delay = self._backoff_initial
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                target()
                with self._lock:
                    self._finished.add(name)
                return  # stopped on purpose
            except Exception as exc:
                why = f"{type(exc).__name__}: {exc}"
                log.error("thread %s died: %s", name, why, exc_info=True)
            now = time.monotonic()
            if now - started > self._window:
                delay = self._backoff_initial  # it ran well for a long while
            deaths.append(now)
            while deaths and now - deaths[0] > self._window:
                deaths.popleft()
            if len(deaths) > self._max_restarts:
                self._give_up(name, len(deaths), why)
                return
            self.restarts[name] = self.restarts.get(name, 0) + 1
            self._metrics.increment("thread.restarts", tags={"thread": name})
            wait = delay * (0.8 + 0.4 * random.random())
            log.error(
                "thread %s restarting in %.1fs (restart %d within %.0fs, at most %d)",
                name,
                wait,
                len(deaths),
                self._window,
                self._max_restarts,
            )
            if self._stop.wait(wait):
                return
            delay = min(delay * 2, self._backoff_max)

    def _give_up(self, name: str, deaths: int, why: str) -> None:
        reason = (
            f"thread {name} cannot be kept alive: it died {deaths} times within "
            f"{self._window:.0f}s (at most {self._max_restarts} restarts); last: {why}"
        )
        log.critical("%s; stopping the agent so the service manager restarts it", reason)
        with self._lock:
            if self.failure is None:
                self.failure = reason
        if self._on_give_up is not None:
            self._on_give_up(reason)
