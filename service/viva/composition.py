"""The composition root: every collaborator built from Settings, in one place, once.

The HTTP API (in its lifespan) and the CLI commands take the embedder, the grader, the banks,
the LLM reviewer and the use cases from here, so they grade and review identically. Parts are
built on first use: `viva rubric check` never loads the model, `viva grade` without `--llm`
never builds an LLM client. Tests pass their own grader or judge to `Components`; everything
else is built the production way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from viva.adapters.banks import BankRepository
from viva.adapters.calibration_file import (
    load_calibration,
    load_injection_head,
    load_vague_head,
)
from viva.app.batching import GradeBatcher
from viva.app.grading import AdHocLimits, Grading
from viva.app.interviews import Interviews
from viva.app.review import Reviewer
from viva.core.feedback import LLMJudge
from viva.core.grader import Grader
from viva.core.ports import Embedder
from viva.errors import ConfigError
from viva.settings import Settings, get_settings, registered

if TYPE_CHECKING:
    from viva.app.auth import Authenticator
    from viva.app.human_review import HumanReviews
    from viva.domain.models import Bank
    from viva.store import Repository

T = TypeVar("T")

_lock = threading.Lock()
_embedders: dict[tuple[str, str, str, str, int], Embedder] = {}
_components: dict[Settings, Components] = {}


def shared_embedder(settings: Settings) -> Embedder:
    """The process's embedder for these settings: loading a model takes seconds, so every
    `Components` with the same model shares one."""
    from viva.adapters.embedder import create_embedder  # torch: only when grading is needed

    s = settings
    key = (
        s.embedding_provider,
        s.embedding_backend,
        s.embedding_model,
        s.embedding_device,
        s.embedding_batch_size,
    )
    with _lock:
        if key not in _embedders:
            _embedders[key] = create_embedder(
                s.embedding_provider,
                s.embedding_model,
                backend=s.embedding_backend,
                device=s.embedding_device,
                batch_size=s.embedding_batch_size,
                cache_dir=s.models_dir,
            )
        return _embedders[key]


def build_judge(settings: Settings) -> LLMJudge | None:
    """The LLM judge VIVA_LLM_* configure, or None when no LLM is configured.

    Raises ConfigError naming the variable (an unknown VIVA_LLM_PROVIDER, a VIVA_LLM_PROMPT
    with no template files), so a bad setting stops start-up instead of every review.
    """
    from viva.adapters.llm import JUDGES  # the openai client: only when an LLM is in play

    factory = registered(JUDGES, settings.llm_provider, "VIVA_LLM_PROVIDER")
    return factory(settings) if settings.llm_enabled else None


MIN_ADMIN_KEY = 24


def read_admin_key(settings: Settings) -> str | None:
    """The key in VIVA_ADMIN_KEY_FILE (e.g. a Docker secret), or None when unset."""
    path = settings.admin_key_file
    if path is None:
        return None
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"VIVA_ADMIN_KEY_FILE: cannot read {path}: {exc.strerror}") from None
    if not key and settings.insecure:
        return None  # an empty secret plus VIVA_INSECURE: open, by choice
    if len(key) < MIN_ADMIN_KEY:
        raise ConfigError(
            f"VIVA_ADMIN_KEY_FILE: the key in {path} is shorter than {MIN_ADMIN_KEY} characters; "
            "make one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return key


def auth_configured(settings: Settings, repo: Repository) -> bool:
    """Whether the server will ask for credentials (see viva.app.auth.Authenticator)."""
    from viva.store.keys import KeyStore

    s = settings
    return bool(
        s.auth_required
        or read_admin_key(s) is not None
        or s.trusted_proxies.strip()
        or KeyStore(repo.db).any()
    )


class Components:
    """Everything the edges need, for one Settings. Thread-safe; each part is built once."""

    def __init__(
        self,
        settings: Settings,
        *,
        grader: Grader | None = None,
        judge: LLMJudge | None = None,
    ) -> None:
        self.settings = settings
        self._built: dict[str, object] = {}
        self._lock = threading.RLock()
        if grader is not None:
            self._built["grader"] = grader
        if judge is not None:
            self._built["judge"] = judge

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            return self._built[name]  # type: ignore[return-value]

    def model_loaded(self) -> bool:
        """Whether the grader (and so the model) is built: the API warms up until it is."""
        with self._lock:
            return "grader" in self._built

    @property
    def banks(self) -> BankRepository:
        return self._once(
            "banks", lambda: BankRepository(self.settings.bank_dirs, overlay=self._reviewed)
        )

    @property
    def human_reviews(self) -> HumanReviews | None:
        """The deployment's human reviews (viva.app.human_review); None while its database
        does not exist yet (a SQLite file never made: nothing was reviewed, none is created)."""
        with self._lock:
            if "human_reviews" not in self._built:
                if not self._database_exists():
                    return None
                from viva.app.human_review import HumanReviews
                from viva.store import open_database
                from viva.store.reviews import ReviewStore

                db = open_database(self.settings.resolved_database_url)
                self._built["human_reviews"] = HumanReviews(ReviewStore(db))
            return self._built["human_reviews"]  # type: ignore[return-value]

    def _database_exists(self) -> bool:
        url = self.settings.resolved_database_url
        if not url.startswith("sqlite"):
            return True
        path = url.split(":///", 1)[-1]
        return bool(path) and path != ":memory:" and Path(path).exists()

    def _reviewed(self, bank: Bank) -> Bank:
        """The bank with this deployment's reviewed answers among its graded examples."""
        reviews = self.human_reviews
        return bank if reviews is None else reviews.bank(bank)

    @property
    def grader(self) -> Grader:
        def build() -> Grader:
            calibration = load_calibration(self.settings.calibration_file)
            return Grader(
                shared_embedder(self.settings),
                calibration,
                cache_bytes=self.settings.grader_cache_mb * 1024 * 1024,
                injection_head=load_injection_head(),
                vague_head=load_vague_head(),
            )

        return self._once("grader", build)

    @property
    def batcher(self) -> GradeBatcher | None:
        """Coalesces concurrent grade calls (API requests) into one model batch."""
        s = self.settings
        if s.grade_batch_max <= 1:
            return None
        return self._once(
            "batcher",
            lambda: GradeBatcher(
                self.grader.grade_many,
                max_batch=s.grade_batch_max,
                max_wait=s.grade_batch_wait_ms / 1000,
            ),
        )

    @property
    def judge(self) -> LLMJudge | None:
        return self._once("judge", lambda: build_judge(self.settings))

    @property
    def reviewer(self) -> Reviewer:
        s = self.settings
        return self._once(
            "reviewer",
            lambda: Reviewer(self.judge, band=s.llm_band, concurrency=s.llm_concurrency),
        )

    @property
    def grading(self) -> Grading:
        return self._once(
            "grading",
            lambda: Grading(
                self.grader,
                self.banks,
                max_answer_chars=self.settings.max_answer_chars,
                adhoc_limits=AdHocLimits(
                    points=self.settings.adhoc_max_points,
                    alternatives=self.settings.adhoc_max_alternatives,
                    chars=self.settings.adhoc_max_chars,
                ),
                batcher=self.batcher,
            ),
        )

    def interviews(self, repo: Repository) -> Interviews:
        """The interview use case over an open repository (the caller closes it)."""
        from viva.app.human_review import HumanReviews
        from viva.store.reviews import ReviewStore

        return Interviews(
            repo,
            self.banks,
            self.grader,
            self.reviewer,
            max_answer_chars=self.settings.max_answer_chars,
            reviews=HumanReviews(ReviewStore(repo.db)),
            batcher=self.batcher,
        )

    def authenticator(self, repo: Repository) -> Authenticator:
        """Accounts over the open repository's database (viva.app.auth)."""
        from viva.app.auth import Authenticator
        from viva.store.keys import KeyStore

        s = self.settings
        return Authenticator(
            KeyStore(repo.db),
            repo.interview_by_link,
            admin_key=read_admin_key(s),
            required=s.auth_required,
            proxy=bool(s.trusted_proxies.strip()),
            proxy_admins=s.proxy_admins,
            proxy_interviewers=s.proxy_interviewers,
        )

    def open_repository(self) -> Repository:
        """The database, migrated to the newest schema; close it with `Repository.close()`."""
        from viva.store import Repository, open_database  # sqlalchemy: only for the service

        return Repository(open_database(self.settings.resolved_database_url))

    def check(self) -> None:
        """Fail fast, with a message naming the setting, on what start-up would trip over:
        the embedding provider, the banks, the LLM provider and prompt. Loads no model."""
        from viva.adapters.embedder import BACKENDS, REGISTRY

        if "grader" not in self._built:
            registered(REGISTRY, self.settings.embedding_provider, "VIVA_EMBEDDING_PROVIDER")
            registered(BACKENDS, self.settings.embedding_backend, "VIVA_EMBEDDING_BACKEND")
        self.banks.all()  # loads and validates every bank
        self.reviewer.health()  # builds the judge, which validates the LLM settings


def get_components(settings: Settings | None = None) -> Components:
    """The process's components for these settings (the environment's by default)."""
    s = settings or get_settings()
    with _lock:
        if s not in _components:
            _components[s] = Components(s)
        return _components[s]
