"""Authentication and rate limits at the HTTP edge.

Every `/v1` route depends on `get_principal`: in open local mode (no key, no admin key file,
no trusted proxy, VIVA_AUTH_REQUIRED off) it returns the open principal and limits nothing;
otherwise the caller needs `Authorization: Bearer KEY` (an API key or a candidate link token)
or an identity header from a trusted proxy, and each address and key is rate limited.

The limits are enforced first by `EdgeLimits`, a plain ASGI middleware that runs before routing:
it charges the address and, for a bearer token verified in the last few seconds, its key, and
answers an over-limit request itself, without the database, argon2 or FastAPI. A flood of
rejected requests thus costs a hash and a dictionary lookup each. Whatever it cannot decide (a
token not seen lately, a proxy identity) goes on to `get_principal`, which authenticates and
charges the key there.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import time
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from viva.api.deps import STARTING
from viva.api.observe import current_request_id
from viva.api.problems import PROBLEM_JSON, problem
from viva.app.auth import OPEN, Authenticator, Principal, can_see, fingerprint
from viva.errors import (
    AuthenticationError,
    InterviewNotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from viva.settings import Settings
from viva.store import InterviewRecord

USER_HEADER = "x-forwarded-user"
EMAIL_HEADER = "x-forwarded-email"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(value: str) -> tuple[list[Network], set[str]]:
    """IPs and CIDRs; anything else (e.g. a test client's name) is matched exactly."""
    nets: list[Network] = []
    names: set[str] = set()
    for item in (x.strip() for x in value.split(",")):
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item)
    return nets, names


class RateLimits:
    """Moving-window limits per caller, in this process's memory (one budget per worker)."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.by_role: dict[str, RateLimitItem] = {
            "candidate": parse(settings.rate_limit_candidate),
            "interviewer": parse(settings.rate_limit_interviewer),
            "admin": parse(settings.rate_limit_admin),
        }
        self.per_ip = parse(settings.rate_limit_ip)

    def check(self, item: RateLimitItem, who: str) -> RateLimitedError | None:
        """Charge one request to `who`; the error to answer when over the limit."""
        if self._limiter.hit(item, who):
            return None
        reset = self._limiter.get_window_stats(item, who).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        return RateLimitedError(
            f"rate limit {item} exceeded for this {who.split(':', 1)[0]}; retry in {retry} s",
            retry_after=retry,
        )

    def hit(self, item: RateLimitItem, who: str) -> None:
        if (err := self.check(item, who)) is not None:
            raise err


# Set in the ASGI scope's state by EdgeLimits: whether authentication is on, whether the address
# was charged, and (when the bearer token was recognised) the principal whose key was charged.
_EDGE = "viva_edge"


class Gate:
    """Who is calling, and whether they are within their limits."""

    def __init__(self, settings: Settings, authenticator: Authenticator) -> None:
        self.auth = authenticator
        self.settings = settings
        self._nets, self._names = parse_proxies(settings.trusted_proxies)
        self._limits = RateLimits(settings)

    def _trusted(self, host: str) -> bool:
        if host in self._names:
            return True
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(addr in net for net in self._nets)

    def _client_ip(self, forwarded: str, peer: str) -> str:
        """Behind a trusted proxy, the address it saw (the last X-Forwarded-For hop)."""
        if forwarded and self._trusted(peer):
            return forwarded.split(",")[-1].strip() or peer
        return peer

    def _limited(self, auth_on: bool) -> bool:
        on = self.settings.rate_limits
        return auth_on if on is None else on

    def _key_limit(self, p: Principal) -> tuple[RateLimitItem, str]:
        who = p.limit_key if p.via != "link" else f"link:{p.interview_id}"
        return self._limits.by_role[p.role], f"key:{who}"

    def admit(
        self, peer: str, forwarded: str, token: str | None
    ) -> tuple[RateLimitedError | None, dict[str, Any] | None]:
        """The edge's check, on raw header values: (over-limit error or None, what it settled,
        for `principal` to skip). Touches no database but `Authenticator.enabled`'s rare check:
        a token counts against its key only when `Authenticator.cached` knows it; else
        `principal` charges it after authenticating."""
        auth_on = self.auth.enabled()
        if not self._limited(auth_on):
            return None, {"auth_on": auth_on, "address": False, "principal": None}
        ip = self._client_ip(forwarded, peer)
        if (err := self._limits.check(self._limits.per_ip, f"address:{ip}")) is not None:
            return err, None
        p = self.auth.cached(fingerprint(token)) if auth_on and token else None
        if p is not None and (err := self._limits.check(*self._key_limit(p))) is not None:
            return err, None
        return None, {"auth_on": auth_on, "address": True, "principal": p}

    def settled(self, request: Request) -> Principal | None:
        """The caller, when the edge already decided it (open mode, or a token verified
        lately, its limits charged): no database, no thread. None: `principal` must decide."""
        edge: dict[str, Any] | None = request.scope.get("state", {}).get(_EDGE)
        if edge is None:
            return None
        if not edge["auth_on"]:
            return OPEN if edge["address"] or not self._limited(False) else None
        p: Principal | None = edge["principal"]
        return p

    def principal(self, request: Request) -> Principal:
        edge: dict[str, Any] = request.scope.get("state", {}).get(_EDGE) or {}
        auth_on = edge["auth_on"] if "auth_on" in edge else self.auth.enabled()
        limited = self._limited(auth_on)
        peer = request.client.host if request.client else ""
        if limited and not edge.get("address"):
            forwarded = request.headers.get("x-forwarded-for", "")
            self._limits.hit(self._limits.per_ip, f"address:{self._client_ip(forwarded, peer)}")
        if not auth_on:
            return OPEN
        settled: Principal | None = edge.get("principal")
        if settled is not None:
            return settled  # authenticated lately, and its key already charged at the edge
        p = self._identify(request, peer)
        if limited:
            self._limits.hit(*self._key_limit(p))
        return p

    def _identify(self, request: Request, peer: str) -> Principal:
        header = request.headers.get("authorization")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthenticationError("send the key as `Authorization: Bearer KEY`")
            return self.auth.bearer(token)
        user = request.headers.get(USER_HEADER, "").strip()
        email = request.headers.get(EMAIL_HEADER, "").strip()
        # Identity headers count only from a configured proxy: anyone else could send them.
        if self.auth.proxy and (user or email) and self._trusted(peer):
            return self.auth.from_proxy(user, email or None)
        raise AuthenticationError(
            "this server needs an API key: send `Authorization: Bearer KEY` "
            "(`viva keys create` makes one) or a candidate link token"
        )


class EdgeLimits:
    """Rate limits before routing: an over-limit `/v1` request is answered here with a 429
    problem, from a body template, without the database or the FastAPI stack (see the module
    docstring). Within the limits, the request goes on with what was checked in its scope."""

    _HEAD = b'{"type":"urn:viva:problem:too-many-requests","title":"Too many requests",'
    _HEAD += b'"status":429,"detail":'

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        gate: Gate | None = getattr(scope["app"].state, "gate", None)
        if gate is None:  # starting: the route answers 503
            await self.app(scope, receive, send)
            return
        auth, forwarded = b"", b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                auth = value
            elif name == b"x-forwarded-for":
                forwarded = value
        scheme, _, token = auth.decode("latin-1").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else ""
        client = scope.get("client")
        peer = client[0] if client else ""
        err, settled = gate.admit(peer, forwarded.decode("latin-1"), bearer or None)
        if err is None:
            if settled is not None:
                scope.setdefault("state", {})[_EDGE] = settled
            await self.app(scope, receive, send)
            return
        body = self._HEAD + json.dumps(str(err)).encode()
        body += b',"instance":' + json.dumps(scope.get("path", "")).encode()
        rid = current_request_id()
        if rid:
            body += b',"request_id":' + json.dumps(rid).encode()
        body += b"}"
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(err.retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def get_principal(request: Request) -> Principal:
    """On the event loop when the edge settled the caller (the common case); else in a thread,
    as authenticating may ask the database and verify an argon2 hash."""
    gate: Gate | None = getattr(request.app.state, "gate", None)
    if gate is None:
        raise HTTPException(503, STARTING)
    p = gate.settled(request)
    if p is not None:
        return p
    return await run_in_threadpool(gate.principal, request)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_metrics_reader(request: Request) -> None:
    """Open in open local mode; else the metrics token or an admin (401 / 403 otherwise)."""
    gate: Gate | None = getattr(request.app.state, "gate", None)
    if gate is None:
        raise HTTPException(503, STARTING)
    if not gate.auth.enabled():
        return
    token = gate.settings.metrics_token
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if token is not None and scheme.lower() == "bearer" and sent.strip():
        want = token.get_secret_value().encode()
        if hmac.compare_digest(sent.strip().encode(), want):
            return
    p = gate.principal(request)
    require(p.role == "admin" and p.via != "link", "metrics are for admins and the scraper")


def visible(p: Principal, iv: InterviewRecord) -> InterviewRecord:
    """The interview, or the same 404 as for one that does not exist."""
    if not can_see(p, iv):
        raise InterviewNotFoundError(f"no interview {iv.id!r}")
    return iv


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionDeniedError(what)


def install(app: FastAPI) -> None:
    """Problem responses for the account errors (401 with WWW-Authenticate, 403, 429)."""

    @app.exception_handler(AuthenticationError)
    async def unauthenticated(request: Request, exc: AuthenticationError) -> JSONResponse:
        return problem(
            401, exc.title, str(exc), request, headers={"WWW-Authenticate": 'Bearer realm="viva"'}
        )

    @app.exception_handler(PermissionDeniedError)
    async def forbidden(request: Request, exc: PermissionDeniedError) -> JSONResponse:
        return problem(403, exc.title, str(exc), request)

    @app.exception_handler(RateLimitedError)
    async def too_many(request: Request, exc: RateLimitedError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)}
        return problem(429, exc.title, str(exc), request, headers=headers)
