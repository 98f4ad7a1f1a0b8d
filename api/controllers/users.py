from __future__ import annotations

from typing import Any

from litestar import Controller, Request, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_user, requires_role
from api.params import RecordId
from api.presenters import user_out
from api.schemas import SetRolesRequest, UserOut
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
        user = await users.set_roles(db, user_id=user_id, roles=data.roles, actor_id=current_user(request).id)
        return user_out(user)
