from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user, requires_role
from api.openapi import error_responses
from api.params import Limit, Offset, RecordId
from api.presenters import admin_user_out, user_out
from api.schemas import Page, SetRolesRequest, UnbanRequest, UserOut
from core.accounts import throttle
from core.models import Role, utcnow
from core.services import directory, users


class UserAdminController(Controller):
    path = "/api/admin/users"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @get("/", operation_id="searchUsers", responses=error_responses(400, 401, 403, 429))
    async def search(
        self,
        db: NamedDependency[AsyncSession],
        q: Annotated[
            str | None, Parameter(max_length=254, description="part of a username or email, or an id")
        ] = None,
        role: Annotated[str | None, Parameter(pattern="^(voter|contestant|moderator|admin)$")] = None,
        status: Annotated[str | None, Parameter(pattern="^(active|banned)$")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page:
        """Accounts, newest first, with roles, status and the ban reason (items are AdminUserOut)."""
        rows = await directory.search_users(db, query=q, role=role, status=status, limit=limit, offset=offset)
        delayed = await throttle.delayed_accounts(db, [row.id for row in rows], now=utcnow())
        items = [admin_user_out(row, delayed.get(row.id)) for row in rows]
        return Page(items=items, limit=limit, offset=offset)

    @put("/{user_id:int}/roles", operation_id="setUserRoles")
    async def set_roles(
        self,
        request: Request[Any, Any, Any],
        user_id: RecordId,
        data: JSONBody[SetRolesRequest],
        db: NamedDependency[AsyncSession],
    ) -> UserOut:
        """Replace an account's roles (voter is always kept). Not your own; the last admin stays admin."""
        user = await users.set_roles(db, user_id=user_id, roles=data.roles, actor_id=current_user(request).id)
        return user_out(user)

    @post(
        "/{user_id:int}/unban",
        operation_id="unbanUser",
        responses=error_responses(409),
        status_code=HTTP_200_OK,
    )
    async def unban(
        self,
        request: Request[Any, Any, Any],
        user_id: RecordId,
        data: JSONBody[UnbanRequest],
        db: NamedDependency[AsyncSession],
    ) -> UserOut:
        """Lift a ban, with a reason kept in the audit log. Votes voided with the ban stay rejected."""
        user = await users.unban(db, user_id=user_id, actor_id=current_user(request).id, reason=data.reason)
        return user_out(user)
