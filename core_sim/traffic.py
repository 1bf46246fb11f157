"""Background traffic: new orders at a Poisson rate, now and then a core-side change.

The thread draws its timing from its own ``random.Random`` (seeded from the
simulator's seed) so order contents stay those of the generator's seed.
"""

from __future__ import annotations

import logging
import random
import threading

from core_sim.errors import OrderClosed, OrderNotFound
from core_sim.state import SimState

logger = logging.getLogger("core_sim")


class TrafficThread:
    """Creates orders at ``rate_per_min`` on average until stopped."""

    def __init__(
        self,
        state: SimState,
        rate_per_min: float,
        seed: int,
        change_probability: float = 0.1,
    ) -> None:
        if rate_per_min <= 0:
            raise ValueError("rate_per_min must be positive")
        self._state = state
        self._rate_per_sec = rate_per_min / 60.0
        self._change_probability = change_probability
        self._rng = random.Random(f"traffic-{seed}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="core-sim-traffic", daemon=True)

    def start(self) -> None:
        """Start generating."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop generating and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._rng.expovariate(self._rate_per_sec)):
            try:
                self.tick()
            except Exception:  # keep generating whatever one tick did
                logger.exception("background order generation failed")

    def tick(self) -> None:
        """One arrival: a new order, and with a small probability a change to an open one."""
        sites = list(self._state.sites)
        self._state.create_order(self._rng.choice(sites), {})
        if self._rng.random() >= self._change_probability:
            return
        open_orders = self._state.open_orders()
        if len(open_orders) < 2:
            return
        victim = self._rng.choice(open_orders[:-1])["id"]
        try:
            if self._rng.random() < 0.5:
                self._state.cancel_order(victim)
            else:
                self._state.edit_order(victim)
        except (OrderClosed, OrderNotFound):
            pass
