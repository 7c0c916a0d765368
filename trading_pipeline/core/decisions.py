"""Decisions: every candidate the risk engine saw, approved or rejected, with its reasons."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class DecisionKind(StrEnum):
    ENTRY = "ENTRY"
    EXIT = "EXIT"
    ROLL = "ROLL"


@dataclass(frozen=True)
class Decision:
    """One recorded decision; `decision_id` is deterministic so reruns record it once."""

    decision_id: str
    session: date
    decided_at: datetime
    strategy: str
    underlying: str
    kind: DecisionKind
    approved: bool
    reasons: tuple[str, ...]
    client_order_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def make_decision_id(strategy: str, session: date, kind: DecisionKind, key: str) -> str:
    """Deterministic id of a decision about `key` (a candidate or a position) in a session."""
    text = f"{strategy}|{session.isoformat()}|{kind.value}|{key}"
    return "dec-" + hashlib.sha256(text.encode()).hexdigest()[:24]
