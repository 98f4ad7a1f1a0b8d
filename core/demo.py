"""A demo contest with contestants, songs and votes, so that a newcomer sees a populated platform."""

from __future__ import annotations

import hashlib
import io
import math
import random
import struct
import wave
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from core import passwords
from core.db import create_engine, create_sessionmaker
from core.models import (
    Contest,
    ContestStatus,
    Role,
    Song,
    SongStatus,
    User,
    UserRole,
    Vote,
    VoteStatus,
    utcnow,
)
from core.services import users
from core.settings import Settings

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed to the person who loads the demo
DEMO_DOMAIN = "demo.example.org"  # a reserved name email-validator accepts (it refuses .test)
# Which demo account to show for each role, by the start of its username.
DEMO_LOGIN_PREFIXES = (
    ("admin", "demo-admin-"),
    ("moderator", "demo-moderator-"),
    ("contestant", "artist-0-"),
    ("voter", "voter-0-"),
)
SONG_TITLES = [
    "Northern Lights",
    "Paper Boats",
    "Late Train Home",
    "Copper Sky",
    "Salt and Honey",
    "Glass Harbour",
    "Slow Orbit",
    "Kitchen Radio",
]


def tone_wav(frequency: float, seconds: float = 31.0, rate: int = 8000) -> bytes:
    """A short mono sine tone as WAV bytes (standard library only)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            frames += struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * i / rate)))
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def _store_demo_file(root: Path, data: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest[2:4]}/{digest}"
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key, digest


def _demo_user(name: str, password_hash: str, *roles: Role) -> User:
    # One shared hash: argon2 per demo account would make loading take half a minute.
    return User(
        email=f"{name}@{DEMO_DOMAIN}",
        username=name,
        password_hash=password_hash,
        email_verified=True,
        role_rows=[UserRole(role=role) for role in {Role.VOTER, *roles}],
    )


async def load_demo(settings: Settings, *, if_empty: bool) -> str:
    engine = create_engine(settings.database)
    rng = random.Random(2026)
    try:
        async with create_sessionmaker(engine)() as session:
            if if_empty and await session.scalar(select(func.count(Contest.id))):
                return "demo: contests already exist, nothing loaded"
            now = utcnow()
            suffix = rng.randrange(10_000, 99_999)
            admin = await users.create_user(
                session,
                email=f"admin{suffix}@{DEMO_DOMAIN}",
                username=f"demo-admin-{suffix}",
                password=DEMO_PASSWORD,
                roles=[Role.ADMIN, Role.MODERATOR],
                email_verified=True,
            )
            shared_hash = await passwords.hash_password(DEMO_PASSWORD)
            session.add(_demo_user(f"demo-moderator-{suffix}", shared_hash, Role.MODERATOR))
            contest = Contest(
                slug=f"spring-song-contest-{suffix}",
                title="Spring Song Contest",
                description="A demo contest: eight songs, a few hundred votes.",
                status=ContestStatus.OPEN,
                submission_opens_at=now - timedelta(days=7),
                submission_closes_at=now + timedelta(days=7),
                voting_opens_at=now - timedelta(days=1),
                voting_closes_at=now + timedelta(days=14),
                votes_per_voter_per_day=5,
                votes_per_song_per_day=1,
                created_by_id=admin.id,
            )
            session.add(contest)
            await session.flush()
            songs = []
            for index, title in enumerate(SONG_TITLES):
                contestant = _demo_user(f"artist-{index}-{suffix}", shared_hash, Role.CONTESTANT)
                session.add(contestant)
                await session.flush()
                audio = tone_wav(220.0 * (1.25 ** (index / 2)))
                key, digest = _store_demo_file(settings.upload_dir, audio)
                song = Song(
                    contest_id=contest.id,
                    contestant_id=contestant.id,
                    title=title,
                    artist_name=f"Artist {index + 1}",
                    genre=rng.choice(["pop", "folk", "electronic", "rock"]),
                    status=SongStatus.APPROVED,
                    storage_key=key,
                    original_filename=f"{title.lower().replace(' ', '-')}.wav",
                    size_bytes=len(audio),
                    sha256=digest,
                    detected_format="wav",
                    codec="pcm_s16le",
                    duration_seconds=31.0,
                    sample_rate=8000,
                    channels=1,
                    bitrate=128_000,
                    processed_at=now,
                )
                session.add(song)
                songs.append(song)
            await session.flush()
            weights = [1 / (rank + 1) for rank in range(len(songs))]  # a Zipf-like popularity tail
            votes = 0
            for voter_index in range(120):
                voter = _demo_user(f"voter-{voter_index}-{suffix}", shared_hash)
                session.add(voter)
                await session.flush()
                chosen = {rng.choices(songs, weights)[0] for _ in range(rng.randint(1, 4))}
                for song in chosen:
                    cast_at = now - timedelta(minutes=rng.randint(1, 1400))
                    ip = f"198.51.100.{rng.randint(1, 254)}"
                    session.add(
                        Vote(
                            contest_id=contest.id,
                            song_id=song.id,
                            voter_id=voter.id,
                            cast_at=cast_at,
                            vote_day=cast_at.date(),
                            ip=ip,
                            network_prefix=ip.rsplit(".", 1)[0] + ".0/24",
                            user_agent="Mozilla/5.0 (demo)",
                            country="SE",
                            status=VoteStatus.VALID,
                            fraud_score=0,
                            scored_at=now,
                        )
                    )
                    votes += 1
            await session.commit()
            return (
                f"demo: contest '{contest.title}' (/api/contests/{contest.id}) with {len(songs)} songs and "
                f"{votes} votes; admin login {admin.username} / {DEMO_PASSWORD}"
            )
    finally:
        await engine.dispose()


async def demo_logins(settings: Settings) -> list[tuple[str, str]]:
    """(role, username) of the demo accounts that still have the demo password, one per role: what
    ``ovation run`` prints at every start (an account whose password was changed is left out)."""
    engine = create_engine(settings.database, pooled=False)
    found: list[tuple[str, str]] = []
    try:
        async with create_sessionmaker(engine)() as session:
            for role, prefix in DEMO_LOGIN_PREFIXES:
                user = await session.scalar(
                    select(User)
                    .where(User.username.startswith(prefix), User.email.endswith(f"@{DEMO_DOMAIN}"))
                    .order_by(User.id)
                    .limit(1)
                )
                if user is not None and await passwords.verify_password(DEMO_PASSWORD, user.password_hash):
                    found.append((role, user.username))
    finally:
        await engine.dispose()
    return found
