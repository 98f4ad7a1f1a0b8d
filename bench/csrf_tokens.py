"""What binding CSRF tokens to the session costs per unsafe request: Litestar's stock check (header and cookie
each decoded: two HMACs) beside the session-bound one of api/csrf.py (header == cookie, one HMAC over token
and session id), in the same run. Prints CPU microseconds per check and the ratio.

    .venv/bin/python -m bench.csrf_tokens [--checks 200000]
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Callable

from litestar.config.csrf import CSRFConfig
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token

from api.csrf import issue_token, token_valid_for

SECRET = secrets.token_urlsafe(48)


def _cpu_per_call(check: Callable[[], bool], calls: int) -> float:
    assert check()
    best = float("inf")
    for _ in range(3):  # the lowest of three rounds: the others are the machine's noise
        started = time.process_time()
        for _ in range(calls):
            check()
        best = min(best, (time.process_time() - started) / calls)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checks", type=int, default=200_000)
    calls = parser.parse_args().checks

    stock = CSRFMiddleware(app=None, config=CSRFConfig(secret=SECRET))  # type: ignore[arg-type]
    stock_token = generate_csrf_token(SECRET)
    session_id = secrets.token_hex(32)
    bound_token = issue_token(session_id, SECRET)

    def stock_check() -> bool:
        return stock._csrf_tokens_match(stock_token, stock_token)

    def bound_check() -> bool:
        same = secrets.compare_digest(bound_token, bound_token)  # header == cookie
        return same and token_valid_for(bound_token, session_id, SECRET)

    baseline = _cpu_per_call(stock_check, calls)
    bound = _cpu_per_call(bound_check, calls)
    print(f"CSRF check, CPU per unsafe request ({calls} checks, lowest of 3 rounds):")
    print(f"  Litestar's stock check (two HMACs):          {baseline:6.2f} us")
    ratio = bound / baseline
    print(f"  session-bound check, api/csrf.py (one HMAC):  {bound:6.2f} us  ({ratio:.2f}x the stock)")


if __name__ == "__main__":
    main()
