"""systemd's service notifications, without a library (``Type=notify``, ``WatchdogSec=``).

A notification is one datagram (``READY=1``, ``WATCHDOG=1``, ``STATUS=…``) to the unix
socket named in ``$NOTIFY_SOCKET`` (an abstract socket when the name starts with
``@``). Without ``$NOTIFY_SOCKET`` (not run by systemd) nothing is sent.

``$WATCHDOG_USEC`` (for this process: ``$WATCHDOG_PID``, when set, must be ours) says
how often systemd expects ``WATCHDOG=1``; the :class:`Watchdog` pings at half that, and
only while the agent's supervised threads are all alive. When one cannot be kept alive
the pings stop (after one ``STATUS=`` line saying why): systemd then kills and restarts
the agent even if it hangs on its way out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping

log = logging.getLogger("edge.sd_notify")


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` to ``$NOTIFY_SOCKET``; ``False`` when there is none or it failed."""
    path = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8", "replace"))
    except OSError as exc:
        log.warning("systemd notification %r not sent to %s: %s", state[:40], path, exc)
        return False
    return True


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings (half of ``$WATCHDOG_USEC``), or ``None``."""
    env = os.environ if environ is None else environ
    pid = env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # meant for another process
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


class Watchdog:
    """Pings ``WATCHDOG=1`` every ``interval`` seconds while ``healthy()`` says so."""

    def __init__(
        self, healthy: Callable[[], bool], why: Callable[[], str | None], interval: float
    ) -> None:
        self._healthy = healthy
        self._why = why
        self._interval = interval
        self._stop = threading.Event()
        #: held while a ping is checked and sent, so none goes out after :meth:`close`
        self._lock = threading.Lock()

    def run(self) -> None:
        """The ``watchdog`` thread's loop; returns when closed or when pings stopped."""
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                if not self._healthy():
                    reason = self._why() or "a supervised thread is not alive"
                    log.error("no more watchdog pings: %s", reason)
                    notify(f"STATUS={reason}")
                    return
                notify("WATCHDOG=1")
            if self._stop.wait(self._interval):
                return

    def close(self) -> None:
        """No ping after this returns."""
        with self._lock:
            self._stop.set()
