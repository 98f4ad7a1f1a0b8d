from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user, requires_role
from api.params import RecordId
from api.presenters import user_out
from api.schemas import SetRolesRequest, UnbanRequest, UserOut
from core.models import Role
from core.services import users


class UserAdminController(Controller):
    path = "/api/admin/users"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

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

    @post("/{user_id:int}/unban", operation_id="unbanUser", status_code=HTTP_200_OK)
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
