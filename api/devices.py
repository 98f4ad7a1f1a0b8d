"""The signed device cookie (core.devices) as the API reads and sets it."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from core.devices import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE, new_device_cookie, verify_device_cookie
from core.settings import Settings


def device_of(request: Request[Any, Any, Any], settings: Settings) -> tuple[str, Cookie | None]:
    """The browser's device id, and the cookie to set when it had none (or a forged one)."""
    device_id = verify_device_cookie(request.cookies.get(DEVICE_COOKIE), settings.secret_key)
    if device_id is not None:
        return device_id, None
    device_id, value = new_device_cookie(settings.secret_key)
    cookie = Cookie(
        key=DEVICE_COOKIE,
        value=value,
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.http.secure_cookies,
    )
    return device_id, cookie
