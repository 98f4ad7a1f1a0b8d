"""The audit log for admins: who did what to which record, filterable by contest, actor and action."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import requires_role
from api.openapi import error_responses
from api.params import Limit, Offset, OptionalRecordId
from api.presenters import audit_entry_out
from api.schemas import Page
from core.models import Role
from core.services import audit


class AuditController(Controller):
    path = "/api/admin/audit"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @get("/", operation_id="listAuditEntries", responses=error_responses(400, 401, 403, 429))
    async def list_entries(
        self,
        db: NamedDependency[AsyncSession],
        contest_id: OptionalRecordId = None,
        actor_id: OptionalRecordId = None,
        action: Annotated[
            str | None,
            Parameter(
                pattern=r"^[a-z_]+(\.[a-z_]+)*\.?$",
                max_length=64,
                description='an action ("song.reject"), or a prefix ending in a dot ("song.")',
            ),
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """Entries newest first (items are AuditEntryOut)."""
        rows = await audit.list_entries(
            db, contest_id=contest_id, actor_id=actor_id, action=action, limit=limit, offset=offset
        )
        return Page(items=[audit_entry_out(entry, name) for entry, name in rows], limit=limit, offset=offset)
