from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from litestar.utils.scope.state import ScopeState
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import (
    PUBLIC,
    SESSION_USER_KEY,
    current_user,
    forget_sessions,
    links_of,
    remember_account,
    sign_in,
    sign_out,
)
from api.devices import device_of
from api.openapi import error_responses
from api.presenters import user_out
from api.schemas import (
    EmailRequest,
    EmailVerifiedOut,
    LinkRequest,
    LoginRequest,
    MailQueuedOut,
    RegisterRequest,
    ResetPasswordRequest,
    UserOut,
)
from core.accounts import login, recovery, signup
from core.accounts.login import LoginAttempt, LoginPolicy, address_bucket
from core.models import utcnow
from core.net import normalize_ip

CHECK_YOUR_EMAIL = MailQueuedOut(
    status="check_your_email",
    detail="We sent a message to this address: open the link in it to confirm the address.",
)
RESET_SENT = MailQueuedOut(
    status="check_your_email",
    detail="If this address belongs to an account, we sent it a link to choose a new password.",
)
RESENT = MailQueuedOut(
    status="check_your_email",
    detail="If this address belongs to an account that is not confirmed yet, we sent it a new link.",
)


class SessionController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @get("/csrf", operation_id="getCsrfToken", opt=PUBLIC)
    async def csrf(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        """The CSRF token to send back in the ``x-csrftoken`` header on every POST, PUT, PATCH and DELETE.
        It belongs to the current session: logging in or out hands out a new one."""
        token = ScopeState.from_scope(request.scope).csrf_token
        return {"csrf_token": token if isinstance(token, str) else "", "header": "x-csrftoken"}

    @post("/logout", operation_id="logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        sign_out(request)

    @get("/me", operation_id="getCurrentUser")
    async def me(self, request: Request[Any, Any, Any]) -> UserOut:
        return user_out(current_user(request))


class CredentialsController(Controller):
    """Signing up, logging in and the mailed links: mounted behind a stricter per-address rate limit (see
    api.app). No answer here tells whether an address has an account."""

    path = "/"
    tags = ["auth"]

    @post(
        "/register",
        operation_id="register",
        opt=PUBLIC,
        status_code=HTTP_202_ACCEPTED,
        responses=error_responses(400, 403, 409, 429),
    )
    async def register(
        self, state: State, data: JSONBody[RegisterRequest], db: NamedDependency[AsyncSession]
    ) -> MailQueuedOut:
        """Sign up (voter, optionally contestant). The account is made unconfirmed and a link to confirm
        the address is mailed; an address that already has an account is mailed that instead, and the
        answer is the same. Log in with the password right away; confirming the address unlocks contests
        that require it. A taken username is refused with 409 (usernames are public)."""
        await signup.sign_up(
            db,
            email=data.email,
            username=data.username,
            password=data.password,
            roles=data.roles,
            now=utcnow(),
            links=links_of(state),
        )
        return CHECK_YOUR_EMAIL

    @post(
        "/login",
        operation_id="login",
        opt=PUBLIC,
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 429),
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: JSONBody[LoginRequest],
        db: NamedDependency[AsyncSession],
    ) -> Response[UserOut]:
        """Log in with email or username. Failed attempts slow down further ones per account and per
        address; a browser that logged in to the account before has a budget of its own."""
        settings = state.settings
        device_id, device_cookie = device_of(request, settings)
        attempt = LoginAttempt(
            login=data.login,
            password=data.password,
            address=address_bucket(normalize_ip(request.client.host if request.client else None)),
            device_id=device_id,
            now=utcnow(),
        )
        user = await login.log_in(db, attempt, LoginPolicy.of(settings.http))
        sign_in(request, user)
        return Response(user_out(user), cookies=[device_cookie] if device_cookie else [])

    @post(
        "/verify-email",
        operation_id="verifyEmail",
        opt=PUBLIC,
        status_code=HTTP_200_OK,
        responses=error_responses(400, 403, 409, 429),
    )
    async def verify_email(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: JSONBody[LinkRequest],
        db: NamedDependency[AsyncSession],
    ) -> EmailVerifiedOut:
        """Use the link from a confirmation mail (once, before it expires). An email change takes effect
        here. Refused links answer 400 link_invalid, link_used or link_expired."""
        user = await signup.verify_email(db, token=data.token, now=utcnow(), links=links_of(state))
        remember_account(request, user)
        return EmailVerifiedOut(email=user.email, username=user.username)

    @post(
        "/verify-email/resend",
        operation_id="resendVerification",
        opt=PUBLIC,
        status_code=HTTP_202_ACCEPTED,
        responses=error_responses(400, 403, 429),
    )
    async def resend_verification(
        self, state: State, data: JSONBody[EmailRequest], db: NamedDependency[AsyncSession]
    ) -> MailQueuedOut:
        """Mail a new confirmation link (the older ones stop working) to an unconfirmed account's address."""
        await signup.resend_verification(db, email=data.email, now=utcnow(), links=links_of(state))
        return RESENT

    @post(
        "/password-reset",
        operation_id="requestPasswordReset",
        opt=PUBLIC,
        status_code=HTTP_202_ACCEPTED,
        responses=error_responses(400, 403, 429),
    )
    async def request_password_reset(
        self, state: State, data: JSONBody[EmailRequest], db: NamedDependency[AsyncSession]
    ) -> MailQueuedOut:
        """Mail a link to choose a new password, if the address belongs to an account; the answer is the
        same either way."""
        await recovery.request_reset(db, email=data.email, now=utcnow(), links=links_of(state))
        return RESET_SENT

    @post(
        "/password-reset/confirm",
        operation_id="resetPassword",
        opt=PUBLIC,
        status_code=HTTP_204_NO_CONTENT,
        responses=error_responses(400, 403, 429),
    )
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: JSONBody[ResetPasswordRequest],
        db: NamedDependency[AsyncSession],
    ) -> None:
        """Set a new password with the link from a reset mail. Every session of the account ends; log in
        with the new password. A weak password is refused (400 weak_password) and the link still works."""
        done = await recovery.reset_password(
            db, token=data.token, password=data.password, now=utcnow(), links=links_of(state)
        )
        forget_sessions(request, done.ended_sessions)
        if "session" in request.scope and request.session.get(SESSION_USER_KEY) == done.user_id:
            sign_out(request)
