"""The long-lived device cookie: a random id signed with the secret key, so that a client cannot mint ids."""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEVICE_COOKIE = "ovation_device"
DEVICE_COOKIE_MAX_AGE = 2 * 365 * 24 * 3600


def _signature(device_id: str, secret: str) -> str:
    return hmac.new(secret.encode(), b"device:" + device_id.encode(), hashlib.sha256).hexdigest()[:32]


def new_device_cookie(secret: str) -> tuple[str, str]:
    """(device id, cookie value)."""
    device_id = secrets.token_hex(16)
    return device_id, f"{device_id}.{_signature(device_id, secret)}"


def verify_device_cookie(value: str | None, secret: str) -> str | None:
    """The device id when the cookie is ours and untampered, else None."""
    if not value or len(value) > 128 or "." not in value:
        return None
    device_id, signature = value.split(".", 1)
    if len(device_id) != 32 or not hmac.compare_digest(signature, _signature(device_id, secret)):
        return None
    return device_id
