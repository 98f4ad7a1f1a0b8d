"""Who sees which board, and when the freeze begins: pure rules over a contest's settings (no database).

Freeze: with ``freeze_hours`` set, the public sees the board as it was when the freeze began (the first
recompute after that moment saves the board it is about to replace as the freeze snapshot) until voting ends
or the contest is closed; moderators and admins see the live board. ``leaderboard_hidden`` hides it from the
public until then. After voting ends everyone sees the live board: the final results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from core.errors import Forbidden, InvalidInput, NotFound
from core.models import GLOBAL_BOARD, Contest, ContestStatus

View = Literal["live", "frozen", "final"]


@dataclass(frozen=True, slots=True)
class BoardRules:
    """What decides who sees which board; cached briefly per API process."""

    contest_id: int
    status: str
    leaderboard_hidden: bool
    freeze_hours: int
    voting_closes_at: datetime

    @classmethod
    def of(cls, contest: Contest) -> BoardRules:
        return cls(
            contest.id,
            contest.status,
            contest.leaderboard_hidden,
            contest.freeze_hours,
            contest.voting_closes_at,
        )

    @property
    def freeze_at(self) -> datetime | None:
        """When the public board stops moving: ``freeze_hours`` before voting closes (None: no freeze)."""
        if not self.freeze_hours:
            return None
        return self.voting_closes_at - timedelta(hours=self.freeze_hours)

    def frozen(self, now: datetime) -> bool:
        """The freeze is in force: it has begun, and voting is still open."""
        start = self.freeze_at
        return (
            start is not None and start <= now < self.voting_closes_at and self.status == ContestStatus.OPEN
        )


@dataclass(frozen=True, slots=True)
class Access:
    view: View
    staff: bool
    frozen_at: datetime | None = None


def access(rules: BoardRules, *, staff: bool, admin: bool, now: datetime) -> Access:
    """Which board this viewer may see now: the public may get the frozen one, or none while it is hidden."""
    if rules.status == ContestStatus.DRAFT and not admin:
        raise NotFound("no such contest", code="contest_not_found")
    if rules.status == ContestStatus.CLOSED or now >= rules.voting_closes_at:
        return Access("final", staff)
    if staff:
        return Access("live", staff)
    if rules.leaderboard_hidden:
        raise Forbidden(
            "the leaderboard of this contest is hidden until voting ends", code="leaderboard_hidden"
        )
    start = rules.freeze_at
    if start is not None and now >= start:
        return Access("frozen", staff, frozen_at=start)
    return Access("live", staff)


def parse_country(raw: str | None) -> str:
    """'' for the global board, or an ISO 3166 alpha-2 code."""
    if raw is None or raw == "":
        return GLOBAL_BOARD
    code = raw.upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidInput("country must be an ISO 3166 alpha-2 code such as 'SE'", code="invalid_country")
    return code
