"""Typed request parameters shared by controllers."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter, PathParameter

INT4_MAX = 2**31 - 1  # contests, songs, users: PostgreSQL integer keys
INT8_MAX = 2**63 - 1  # votes: bigint keys

# An id beyond its column's range is a client error (400), not a database error (500).
RecordId = Annotated[int, PathParameter(ge=1, le=INT4_MAX)]
VoteId = Annotated[int, PathParameter(ge=1, le=INT8_MAX)]
OptionalRecordId = Annotated[int | None, Parameter(ge=1, le=INT4_MAX)]
# Pagination: a page of 1..100 items from any offset a real list can reach.
Limit = Annotated[int, Parameter(ge=1, le=100, description="page size, 1..100")]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
