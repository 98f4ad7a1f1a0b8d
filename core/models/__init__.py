"""SQLAlchemy models, one module per table group, re-exported here."""

from core.models.audit import AuditEntry, WorkerHeartbeat
from core.models.base import Base, utcnow
from core.models.contest import Contest, ContestStatus
from core.models.leaderboard import GLOBAL_BOARD, LeaderboardEntry
from core.models.song import Song, SongStatus
from core.models.user import AccountStatus, Role, User, UserRole
from core.models.vote import COUNTED_STATUSES, Vote, VoteStatus

__all__ = [
    "COUNTED_STATUSES",
    "GLOBAL_BOARD",
    "AccountStatus",
    "AuditEntry",
    "Base",
    "Contest",
    "ContestStatus",
    "LeaderboardEntry",
    "Role",
    "Song",
    "SongStatus",
    "User",
    "UserRole",
    "Vote",
    "VoteStatus",
    "WorkerHeartbeat",
    "utcnow",
]
