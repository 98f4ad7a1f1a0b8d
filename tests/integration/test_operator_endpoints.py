"""/ready's details and /metrics are for operators only: a token, or an address of the operators' network."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.environment import OPERATOR_TOKEN


async def test_ready_tells_the_public_only_whether_it_is_ready(api: Api) -> None:
    public = await api.get("/ready")
    assert public.status_code == 200
    assert public.json() == {"status": "ready"}  # no worker host names, no PIDs, no error types

    operator = await api.get("/ready", headers={"authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert operator.status_code == 200
    assert operator.json()["checks"]["database"] == "ok"


async def test_metrics_need_the_operator_token(api: Api) -> None:
    refused = await api.get("/metrics")
    assert refused.status_code == 403
    assert refused.json()["code"] == "operators_only"
    wrong = await api.get("/metrics", headers={"authorization": "Bearer not-the-token"})
    assert wrong.status_code == 403
    granted = await api.get("/metrics", headers={"authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert granted.status_code == 200
    assert "ovation_requests_total" in granted.text


async def test_an_operator_address_needs_no_token(api: Api) -> None:
    # The test client is a trusted proxy: X-Forwarded-For sets the client address, as a proxy would.
    local = await api.get("/metrics", headers={"x-forwarded-for": "127.0.0.1"})
    assert local.status_code == 200
    remote = await api.get("/ready", headers={"x-forwarded-for": "203.0.113.9"})
    assert remote.json() == {"status": "ready"}
