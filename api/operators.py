"""Who may read the operational details (/ready's checks, /metrics): requests from the operators' networks
(loopback unless configured), or bearing the operator token. Worker host names, process ids and error types
tell an attacker what runs where, so the public gets only the status."""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.errors import Forbidden
from core.net import normalize_ip
from core.settings import HttpSettings


@cache
def _networks(networks: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


def is_operator(connection: ASGIConnection[Any, Any, Any, Any], http: HttpSettings) -> bool:
    if http.operator_token:
        sent = connection.headers.get("authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {http.operator_token}".encode()):
            return True
    # The client address after the trusted-proxy step: a proxy's own address is never taken for the client's.
    address = normalize_ip(connection.client.host if connection.client else None)
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in _networks(http.operator_networks))


def operators_only(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    if not is_operator(connection, connection.app.state.settings.http):
        raise Forbidden(
            "operators only: send the operator token (Authorization: Bearer ...) or call from an operator"
            " network",
            code="operators_only",
        )
