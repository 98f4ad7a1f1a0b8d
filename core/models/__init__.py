"""SQLAlchemy models, one module per table group, re-exported here."""

from core.models.account import AccountToken, KnownDevice, LoginThrottle, OutgoingMail, TokenPurpose
from core.models.appeal import VoteAppeal
from core.models.audit import AuditEntry, WorkerHeartbeat
from core.models.base import Base, utcnow
from core.models.board import (
    LeaderboardRepair,
    LeaderboardSnapshot,
    LeaderboardSnapshotEntry,
    LeaderboardState,
    VoteTally,
)
from core.models.contest import Contest, ContestStatus
from core.models.group import VoteGroup
from core.models.leaderboard import GLOBAL_BOARD, LeaderboardEntry
from core.models.quota import DailySongVoteCount, DailyVoteCount
from core.models.session import HttpSession
from core.models.song import Song, SongStatus
from core.models.user import AccountStatus, Role, User, UserRole
from core.models.vote import COUNTED_STATUSES, Vote, VoteStatus

__all__ = [
    "COUNTED_STATUSES",
    "GLOBAL_BOARD",
    "AccountStatus",
    "AccountToken",
    "AuditEntry",
    "Base",
    "Contest",
    "ContestStatus",
    "DailySongVoteCount",
    "DailyVoteCount",
    "HttpSession",
    "KnownDevice",
    "LeaderboardEntry",
    "LeaderboardRepair",
    "LeaderboardSnapshot",
    "LeaderboardSnapshotEntry",
    "LeaderboardState",
    "LoginThrottle",
    "OutgoingMail",
    "Role",
    "Song",
    "SongStatus",
    "TokenPurpose",
    "User",
    "UserRole",
    "Vote",
    "VoteAppeal",
    "VoteGroup",
    "VoteStatus",
    "VoteTally",
    "WorkerHeartbeat",
    "utcnow",
]
