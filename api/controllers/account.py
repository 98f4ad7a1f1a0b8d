"""The signed-in owner's own account: password, address, becoming a contestant."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user, forget_sessions, links_of, remember_account, sign_in
from api.openapi import error_responses
from api.presenters import user_out
from api.schemas import ChangeEmailRequest, ChangePasswordRequest, MailQueuedOut, UserOut
from core.accounts import profile
from core.accounts.login import LoginPolicy
from core.models import utcnow

CONFIRM_NEW_ADDRESS = MailQueuedOut(
    status="check_your_email",
    detail="We sent a link to the new address: your account moves to it when you open the link.",
)


class AccountController(Controller):
    """Mounted behind the per-address credential rate limit, like logins (see api.app)."""

    path = "/"
    tags = ["account"]

    @post(
        "/password",
        operation_id="changePassword",
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 429),
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: JSONBody[ChangePasswordRequest],
        db: NamedDependency[AsyncSession],
    ) -> UserOut:
        """Change the password (the current one is asked, and wrong ones are slowed like logins). Every
        other browser is signed out; this one continues under a new session."""
        ended = await profile.change_password(
            db,
            user_id=current_user(request).id,
            current=data.current_password,
            new=data.new_password,
            now=utcnow(),
            links=links_of(state),
            policy=LoginPolicy.of(state.settings.http).account,
        )
        forget_sessions(request, ended)
        user = current_user(request)
        sign_in(request, user)
        return user_out(user)

    @post(
        "/email",
        operation_id="changeEmail",
        status_code=HTTP_202_ACCEPTED,
        responses=error_responses(400, 401, 403, 429),
    )
    async def change_email(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: JSONBody[ChangeEmailRequest],
        db: NamedDependency[AsyncSession],
    ) -> MailQueuedOut:
        """Ask to move the account to another address: it changes when the link mailed there is opened
        (and the address then counts as confirmed). The answer does not tell whether that address has an
        account."""
        await profile.change_email(
            db,
            user_id=current_user(request).id,
            password=data.password,
            new_email=data.new_email,
            now=utcnow(),
            links=links_of(state),
            policy=LoginPolicy.of(state.settings.http).account,
        )
        return CONFIRM_NEW_ADDRESS

    @post(
        "/contestant",
        operation_id="becomeContestant",
        status_code=HTTP_200_OK,
        responses=error_responses(401, 403, 429),
    )
    async def become_contestant(
        self, request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]
    ) -> UserOut:
        """Add the contestant role to this account, to submit songs; the session is renewed with it."""
        user = await profile.become_contestant(db, user_id=current_user(request).id)
        remember_account(request, user)
        sign_in(request, user)
        return user_out(user)
