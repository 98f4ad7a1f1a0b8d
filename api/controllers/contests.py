from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC_READ, current_user, optional_user, requires_role
from api.params import Limit, Offset, RecordId
from api.presenters import contest_out
from api.schemas import ContestCreate, ContestOut, ContestRules, Page
from core.models import ContestStatus, Role, User, utcnow
from core.services import contests

admin_only = [requires_role(Role.ADMIN)]


def _is_admin(viewer: User | None) -> bool:
    return viewer is not None and viewer.has_role(Role.ADMIN)


class ContestController(Controller):
    path = "/api/contests"
    tags = ["contests"]

    @get("/", operation_id="listContests", opt=PUBLIC_READ)
    async def list_contests(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        status: Annotated[str | None, Parameter(pattern="^(draft|open|closed)$")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page:
        """Open and closed contests for everyone; drafts too for admins."""
        admin = _is_admin(await optional_user(request))
        rows = await contests.list_contests(
            db,
            include_drafts=admin,
            status=status,
            limit=limit,
            offset=offset,
        )
        now = utcnow()
        return Page(items=[contest_out(row, now, admin=admin) for row in rows], limit=limit, offset=offset)

    @get("/{contest_id:int}", operation_id="getContest", opt=PUBLIC_READ)
    async def get_contest(
        self, request: Request[Any, Any, Any], contest_id: RecordId, db: NamedDependency[AsyncSession]
    ) -> ContestOut:
        admin = _is_admin(await optional_user(request))
        contest = await contests.get_contest(db, contest_id, include_drafts=admin)
        return contest_out(contest, utcnow(), admin=admin)

    @get("/by-slug/{slug:str}", operation_id="getContestBySlug", opt=PUBLIC_READ)
    async def get_contest_by_slug(
        self, request: Request[Any, Any, Any], slug: FromPath[str], db: NamedDependency[AsyncSession]
    ) -> ContestOut:
        admin = _is_admin(await optional_user(request))
        contest = await contests.get_contest_by_slug(db, slug[:64], include_drafts=admin)
        return contest_out(contest, utcnow(), admin=admin)

    @post("/", operation_id="createContest", guards=admin_only)
    async def create_contest(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ContestCreate],
        db: NamedDependency[AsyncSession],
    ) -> ContestOut:
        fields = data.given()
        slug = fields.pop("slug")
        contest = await contests.create_contest(
            db, slug=slug, actor_id=current_user(request).id, fields=fields
        )
        return contest_out(contest, utcnow(), admin=True)

    @patch("/{contest_id:int}", operation_id="updateContest", guards=admin_only)
    async def update_contest(
        self,
        request: Request[Any, Any, Any],
        contest_id: RecordId,
        data: JSONBody[ContestRules],
        db: NamedDependency[AsyncSession],
    ) -> ContestOut:
        contest = await contests.update_contest(
            db, contest_id=contest_id, actor_id=current_user(request).id, fields=data.given()
        )
        return contest_out(contest, utcnow(), admin=True)

    @post("/{contest_id:int}/open", operation_id="openContest", guards=admin_only, status_code=HTTP_200_OK)
    async def open_contest(
        self, request: Request[Any, Any, Any], contest_id: RecordId, db: NamedDependency[AsyncSession]
    ) -> ContestOut:
        contest = await contests.set_status(
            db, contest_id=contest_id, actor_id=current_user(request).id, status=ContestStatus.OPEN
        )
        return contest_out(contest, utcnow(), admin=True)

    @post("/{contest_id:int}/close", operation_id="closeContest", guards=admin_only, status_code=HTTP_200_OK)
    async def close_contest(
        self, request: Request[Any, Any, Any], contest_id: RecordId, db: NamedDependency[AsyncSession]
    ) -> ContestOut:
        contest = await contests.set_status(
            db, contest_id=contest_id, actor_id=current_user(request).id, status=ContestStatus.CLOSED
        )
        return contest_out(contest, utcnow(), admin=True)
