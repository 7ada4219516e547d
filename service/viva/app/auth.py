"""Accounts and roles: who is calling, and what they may do with an interview.

Three roles: `admin` (everything), `interviewer` (creates interviews, also for candidates,
reads their reports, grades ad hoc) and `candidate` (their own interviews only). A caller is a
`Principal`, made from an API key (argon2-hashed in the store), a one-time candidate link
token, a trusted reverse proxy's identity header, or, when no authentication is configured,
the open local mode, in which everything works as before accounts existed.

Every check on an interview lives here (`can_see`, `can_respond`, `can_delete`), so the edges
cannot disagree about them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import LRUCache, TTLCache

from viva.errors import AuthenticationError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from viva.store import InterviewRecord
    from viva.store.keys import KeyRecord, KeyStore

Role = Literal["admin", "interviewer", "candidate"]
ROLES: tuple[str, ...] = get_args(Role)
Via = Literal["open", "key", "admin_key", "link", "proxy"]

KEY_PREFIX = "viva_"
LINK_PREFIX = "vlink_"
_KEY_ID_HEX = 12

# OWASP's argon2id minimum (19 MiB, t=2, p=1): keys are 256 random bits, so the hash guards a
# stolen database, not a weak secret; verified keys are cached, so the cost is paid once.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# How long a verified credential is trusted without asking the database again. Revoking in this
# process (`Keys.revoke`) forgets it at once; `viva keys revoke` from another process takes
# effect within this many seconds.
PRINCIPAL_TTL_S = 5.0

# How long "no key exists yet" is believed without asking the database again. A key created in
# this process (`Keys.create`) turns authentication on at once; `viva keys create` from another
# process within this many seconds. Until then every request asked (the edge's, on the event
# loop, and its route's again).
NO_KEYS_TTL_S = 1.0


@dataclass(frozen=True)
class Principal:
    role: Role
    via: Via
    subject: str | None  # what `InterviewRecord.owner` holds for this caller; None: open mode
    name: str = ""
    interview_id: str | None = None  # a link holder: this one interview only

    @property
    def open(self) -> bool:
        return self.via == "open"

    @property
    def sees_secrets(self) -> bool:
        """Interviewers and admins always see reference answers; open mode is a candidate."""
        return not self.open and self.role in ("admin", "interviewer") and self.via != "link"

    @property
    def limit_key(self) -> str:
        return self.subject or "open"


OPEN = Principal(role="admin", via="open", subject=None, name="open local mode")


# --- interview access -----------------------------------------------------------------------


def can_see(p: Principal, iv: InterviewRecord) -> bool:
    if p.open or (p.role == "admin" and p.via != "link"):
        return True
    if p.via == "link":
        return iv.id == p.interview_id
    return iv.owner is not None and iv.owner == p.subject


def can_respond(p: Principal, iv: InterviewRecord) -> bool:
    """Answer or skip. An interview made for a candidate is answered by the link holder only."""
    if p.open:
        return True
    if p.via == "link":
        return iv.id == p.interview_id
    if iv.has_link:
        return False
    return p.role == "admin" or (iv.owner is not None and iv.owner == p.subject)


def can_delete(p: Principal, iv: InterviewRecord) -> bool:
    if p.open or (p.role == "admin" and p.via != "link"):
        return True
    return p.via != "link" and iv.owner is not None and iv.owner == p.subject


def is_staff(p: Principal) -> bool:
    """Interviewers and admins (and open mode): bank grading, candidate links, exports."""
    return p.open or (p.via != "link" and p.role in ("admin", "interviewer"))


# --- secrets ----------------------------------------------------------------------------------


def new_link_token() -> tuple[str, str]:
    """A candidate link token and the hash that is stored (the token is shown once)."""
    token = LINK_PREFIX + secrets.token_urlsafe(32)
    return token, link_hash(token)


def link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(token: str) -> str:
    """What caches and rate limits key a bearer token on (never the token itself)."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


_authenticators: weakref.WeakSet[Authenticator] = weakref.WeakSet()


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once
    record: KeyRecord


class Keys:
    """Create, list and revoke API keys."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store

    def create(self, role: str, name: str) -> NewKey:
        if role not in ROLES:
            raise InvalidInputError(f"unknown role {role!r} (have: {', '.join(ROLES)})")
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInputError("a key needs a name of 1 to 200 characters")
        key_id = secrets.token_hex(_KEY_ID_HEX // 2)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = self.store.add(id=key_id, name=name, role=role, hash=_hasher.hash(key))
        for auth in list(_authenticators):
            auth.key_created()
        return NewKey(key, record)

    def list(self) -> list[KeyRecord]:
        return self.store.all()

    def revoke(self, key_id: str) -> KeyRecord:
        record = self.store.get(key_id)
        if record is None:
            raise NotFoundError(f"no key {key_id!r}; `viva keys list` shows them")
        self.store.revoke(key_id)
        for auth in list(_authenticators):
            auth.forget(key_id)
        revoked = self.store.get(key_id)
        assert revoked is not None
        return revoked


def _split_csv(value: str) -> frozenset[str]:
    return frozenset(x.strip().lower() for x in value.split(",") if x.strip())


class Authenticator:
    """Turns credentials into a Principal. Thread-safe."""

    def __init__(
        self,
        keys: KeyStore,
        find_link: Callable[[str], str | None],
        *,
        admin_key: str | None = None,
        required: bool = False,
        proxy: bool = False,
        proxy_admins: str = "",
        proxy_interviewers: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = keys
        self.find_link = find_link
        self._admin = fingerprint(admin_key) if admin_key else None
        self._configured = required or proxy or admin_key is not None
        self.proxy = proxy
        self._proxy_admins = _split_csv(proxy_admins)
        self._proxy_interviewers = _split_csv(proxy_interviewers)
        self._verified: LRUCache[str, str] = LRUCache(maxsize=4096)  # fingerprint -> key id
        # fingerprint -> who: no database lookup for PRINCIPAL_TTL_S after a credential passed
        self._principals: TTLCache[str, Principal] = TTLCache(maxsize=4096, ttl=PRINCIPAL_TTL_S)
        self._lock = threading.Lock()
        self._keys_exist = False
        self._clock = clock
        self._no_keys_until = -math.inf  # "no key exists" is believed until then
        self._created = 0  # keys created in this process
        _authenticators.add(self)

    def enabled(self) -> bool:
        """On when configured, or once any key was ever created, so `viva keys create` closes a
        running open server without a restart: at once from this process, within
        NO_KEYS_TTL_S from another (one small query a second, not one a request)."""
        if self._configured or self._keys_exist:
            return True
        now = self._clock()
        if now < self._no_keys_until:
            return False
        created = self._created  # a key made while the store is asked must not be missed
        if self.keys.any():
            self._keys_exist = True  # for good: revoking the last key never re-opens
            return True
        with self._lock:
            if created == self._created:
                self._no_keys_until = now + NO_KEYS_TTL_S
        return self._keys_exist

    def key_created(self) -> None:
        """A key was just created in this process: ask the store again on the next request."""
        with self._lock:
            self._created += 1
            self._no_keys_until = -math.inf

    def cached(self, fp: str) -> Principal | None:
        """The principal a token with this fingerprint was verified as, if still fresh: the rate
        limiter's fast path, which never touches the database."""
        with self._lock:
            return self._principals.get(fp)

    def forget(self, key_id: str) -> None:
        """Drop a revoked key's cached principal, so revocation in this process is immediate."""
        subject = f"key:{key_id}"
        with self._lock:
            for fp in [fp for fp, p in self._principals.items() if p.subject == subject]:
                self._principals.pop(fp, None)
            for fp in [fp for fp, kid in self._verified.items() if kid == key_id]:
                self._verified.pop(fp, None)

    def bearer(self, token: str) -> Principal:
        token = token.strip()
        fp = fingerprint(token)
        found = self.cached(fp)
        if found is not None:
            return found
        p = self._bearer(token, fp)
        with self._lock:
            self._principals[fp] = p
        return p

    def _bearer(self, token: str, fp: str) -> Principal:
        if token.startswith(LINK_PREFIX):
            interview_id = self.find_link(link_hash(token))
            if interview_id is None:
                raise AuthenticationError("unknown candidate link")
            return Principal(
                role="candidate", via="link", subject=None, name="link", interview_id=interview_id
            )
        if self._admin is not None and hmac.compare_digest(fp, self._admin):
            return Principal(role="admin", via="admin_key", subject="admin-key", name="admin key")
        record = self._key(token, fp)
        if record is None or not record.active:
            raise AuthenticationError("unknown or revoked API key")
        role: Role = record.role  # type: ignore[assignment]  # one of ROLES, checked on create
        return Principal(role=role, via="key", subject=f"key:{record.id}", name=record.name)

    def _key(self, token: str, fp: str) -> KeyRecord | None:
        if not token.startswith(KEY_PREFIX) or len(token) < len(KEY_PREFIX) + _KEY_ID_HEX + 2:
            return None
        key_id = token[len(KEY_PREFIX) : len(KEY_PREFIX) + _KEY_ID_HEX]
        record = self.keys.get(key_id)  # once per PRINCIPAL_TTL_S: revocation is seen then
        if record is None:
            return None
        with self._lock:
            known = self._verified.get(fp) == key_id
        if not known:
            try:
                _hasher.verify(record.hash, token)
            except (VerificationError, InvalidHashError):
                return None
            with self._lock:
                self._verified[fp] = key_id
        return record

    def is_admin_subject(self, subject: str) -> bool:
        """Whether an interview owner (a principal's subject) is an admin, e.g. for quotas."""
        kind, _, rest = subject.partition(":")
        if subject == "admin-key":
            return True
        if kind == "key":
            record = self.keys.get(rest)
            return record is not None and record.role == "admin"
        if kind == "proxy":
            return rest in self._proxy_admins
        return False

    def from_proxy(self, user: str, email: str | None) -> Principal:
        """An identity a trusted reverse proxy vouched for (the caller checked the address)."""
        ids = {user.strip().lower(), (email or "").strip().lower()} - {""}
        role: Role = "candidate"
        if ids & self._proxy_admins:
            role = "admin"
        elif ids & self._proxy_interviewers:
            role = "interviewer"
        who = user.strip() or (email or "").strip()
        return Principal(role=role, via="proxy", subject=f"proxy:{who.lower()}", name=who)
