"""Rate limits on what writes: `RateLimit("votes")` as a route dependency counts the request
per signed-in user and per client address, under the `rate_limit_<action>_per_user` and
`_per_address` settings; over either, a 429 with Retry-After (see app.py's handler)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Depends, Request

from dailypapers.config import Settings
from dailypapers.storage.ratelimit import Rate, Rule, enforce
from dailypapers.web.deps import StoreDep, ViewerDep


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _rules(settings: Settings, action: str, user_id: int | None, address: str) -> list[Rule]:
    rules = []
    if user_id is not None and hasattr(settings, f"rate_limit_{action}_per_user"):
        rate = Rate.parse(getattr(settings, f"rate_limit_{action}_per_user"))
        reason = f"too many {action} from your account"
        rules.append(Rule(f"{action}/user/{user_id}", rate, reason))
    rate = Rate.parse(getattr(settings, f"rate_limit_{action}_per_address"))
    reason = f"too many {action} from your address"
    rules.append(Rule(f"{action}/address/{address}", rate, reason))
    return rules


def RateLimit(action: str) -> Any:  # noqa: N802 (used like a class: dependencies=[RateLimit(…)])
    """A dependency counting one `action` (votes, comments, submissions, signups)."""

    def check(request: Request, store: StoreDep, viewer: ViewerDep) -> None:
        settings: Settings = request.app.state.settings
        if settings.rate_limits:
            user_id = viewer.id if viewer else None
            rules = _rules(settings, action, user_id, client_address(request))
            enforce(store, rules, time.time())

    return Depends(check)
