"""Password hashing with argon2 through passlib (the maintained libpass distribution)."""

from __future__ import annotations

import asyncio

from passlib.context import CryptContext

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): passlib's default (100 MiB, ~0.5 s here) would
# let a flash crowd of logins exhaust two cores. Hashes record their parameters, so raising them later
# re-hashes on the next login (core.accounts.login).
_context = CryptContext(
    schemes=["argon2"],
    deprecated="auto",
    argon2__type="ID",
    argon2__memory_cost=19 * 1024,
    argon2__rounds=2,
    argon2__parallelism=1,
)
# Verified against when the account does not exist, so that a miss costs as much time as a wrong password.
_DUMMY_HASH = _context.hash("not-a-real-password-0123456789")

COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "qwerty1234",
        "iloveyou12",
        "letmein123",
        "welcome123",
        "abc1234567",
        "0123456789",
        "1111111111",
        "football12",
        "monkey1234",
        "dragon1234",
        "sunshine12",
        "baseball12",
        "superman12",
    }
)
MIN_LENGTH = 10
MAX_LENGTH = 128


def password_problem(password: str, *, username: str, email: str) -> str | None:
    """Why a password is too weak, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return "password is too common"
    if len(set(password)) < 5:
        return "password repeats too few distinct characters"
    personal = {username.lower(), email.split("@")[0].lower()}
    if any(len(part) >= 4 and part in lowered for part in personal):
        return "password must not contain the username or email"
    return None


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(_context.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        await asyncio.to_thread(_context.verify, password, _DUMMY_HASH)
        return False
    return await asyncio.to_thread(_context.verify, password, password_hash)


def needs_rehash(password_hash: str) -> bool:
    return bool(_context.needs_update(password_hash))


def hash_password_sync(password: str) -> str:
    hashed: str = _context.hash(password)
    return hashed
