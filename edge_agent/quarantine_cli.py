"""``edge-agent quarantine``: the site admin's view of refused orders.

``list`` shows every quarantined order (number, when, order, state, reason); ``show ID``
one in full, with the order's text as received; ``release ID`` applies it again
through the same validation as the feed (after a rule became more lenient, or a
fix), or says why it is still refused; ``dismiss ID`` takes it off the screens.
Released and dismissed orders stay listed, with their state.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from edge_agent import wiring
from edge_agent.config import AgentConfig
from edge_agent.effects import Effects
from edge_agent.kitchen import Kitchen
from edge_agent.store import Store
from shared.errors import ConfigError, WireError

log = logging.getLogger("edge.quarantine")


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def run_quarantine(config: AgentConfig, store: Store, action: str, qid: int | None) -> int:
    """One ``quarantine`` action; the exit status (1: the order is still refused)."""
    if action == "list":
        rows = store.quarantined()
        if not rows:
            print("no quarantined orders")
        for q in rows:
            state = q["resolved"] or "WAITING"
            print(f"{q['id']:>5}  {_when(q['at'])}  {q['label']:<14} {state:<9} {q['summary']}")
        return 0
    if qid is None:
        raise ConfigError("id", f"quarantine {action} needs the number `quarantine list` shows")
    entry = store.quarantine_entry(qid)
    if entry is None:
        print(f"edge-agent: no quarantined order #{qid}")
        return 1
    if action == "show":
        for key in ("id", "order_id", "version", "label", "field", "error", "resolved"):
            print(f"{key}: {entry[key] if entry[key] is not None else '-'}")
        print(f"at: {_when(entry['at'])}")
        print("body:")
        print(entry["body"])
        return 0
    if action == "dismiss":
        store.resolve_quarantine(qid, "dismissed")
        print(f"order {entry['label']} (#{qid}) dismissed: off the screens, kept in the list")
        return 0
    kitchen = Kitchen(
        store,
        config.site_id,
        expo_station=config.expo_station or None,
        effects=Effects(store, wiring.effect_rules(config)),
        settings=wiring.site_settings(config),
        allergy_rules=config.allergy.rules(),
    )
    try:
        outcome = kitchen.release(qid)
    except WireError as exc:
        print(f"order {entry['label']} (#{qid}) still refused: {exc}")
        return 1
    print(f"order {entry['label']} (#{qid}) released: {outcome.action}")
    return 0
