"""One typed settings object, filled from flags, then environment, then defaults.

Environment variables: ``IMR_ASSIST_*`` for this tool's own settings, and the
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` variables that the openai client reads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from imr_assist.errors import ConfigError

DEFAULT_LLM_MODEL = "gpt-4o-mini"

# field name -> environment variable
ENV: dict[str, str] = {
    "index_dir": "IMR_ASSIST_INDEX",
    "chroma_url": "IMR_ASSIST_CHROMA_URL",
    "embedder": "IMR_ASSIST_EMBEDDER",
    "embed_model_path": "IMR_ASSIST_EMBED_MODEL",
    "embed_api_model": "IMR_ASSIST_EMBED_API_MODEL",
    "embed_base_url": "IMR_ASSIST_EMBED_BASE_URL",
    "embed_batch_size": "IMR_ASSIST_EMBED_BATCH",
    "embed_concurrency": "IMR_ASSIST_EMBED_CONCURRENCY",
    "llm_model": "IMR_ASSIST_MODEL",
    "llm_timeout": "IMR_ASSIST_LLM_TIMEOUT",
    "llm_max_retries": "IMR_ASSIST_LLM_RETRIES",
    "llm_evidence_tokens": "IMR_ASSIST_LLM_EVIDENCE_TOKENS",
    "llm_max_tokens": "IMR_ASSIST_LLM_MAX_TOKENS",
    "k": "IMR_ASSIST_K",
    "openai_base_url": "OPENAI_BASE_URL",
    "openai_api_key": "OPENAI_API_KEY",
}


class Settings(BaseModel):
    """Every knob the tool has. Build with ``Settings.load(**flags)``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    index_dir: Path = Field(Path("index"), description="Folder of the embedded Chroma index")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (chroma run); overrides index_dir for vectors"
    )
    embedder: Literal["onnx", "openai"] = Field(
        "onnx", description="'onnx': bundled all-MiniLM-L6-v2; 'openai': a /v1/embeddings endpoint"
    )
    embed_model_path: str | None = Field(
        None,
        description="Another ONNX export of all-MiniLM-L6-v2 to use instead of the bundled one",
    )
    embed_api_model: str | None = Field(
        None, description="Model name for the 'openai' embedder, e.g. text-embedding-3-small"
    )
    embed_base_url: str | None = Field(
        None, description="Base URL for the 'openai' embedder (default: OPENAI_BASE_URL)"
    )
    embed_batch_size: int = Field(
        64, ge=1, le=2048, description="Texts per request to an embeddings endpoint"
    )
    embed_concurrency: int = Field(
        4, ge=1, le=64, description="Embeddings requests in flight at once ('openai' embedder)"
    )
    llm_model: str | None = Field(
        None, description="Model that writes answers; None means extractive answers"
    )
    llm_enabled: bool | None = Field(
        None, description="Force LLM answers on or off; None decides from the environment"
    )
    llm_timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds per LLM request; None: 60, or 300 for a loopback base URL "
        "(a local model on a CPU can take minutes over one prompt)",
    )
    llm_max_retries: int = Field(3, ge=0, le=10, description="Retries on 429, 5xx and timeouts")
    llm_evidence_tokens: int = Field(
        1500,
        ge=200,
        le=100_000,
        description="Evidence the LLM prompt may hold, in tokens (about 4 characters each); "
        "the extractive answer's own citations are always included",
    )
    llm_max_tokens: int = Field(
        700, ge=16, le=32_000, description="Most tokens the LLM may write per reply"
    )
    k: int = Field(8, ge=1, le=200, description="Passages retrieved per question")
    openai_base_url: str | None = Field(None, description="OpenAI-compatible server URL")
    openai_api_key: SecretStr | None = Field(None, description="API key (never printed)")

    @classmethod
    def load(cls, **flags: Any) -> Settings:
        """Flags (non-None) win over environment variables, which win over defaults."""
        values: dict[str, Any] = {}
        for name, var in ENV.items():
            raw = os.environ.get(var)
            if raw not in (None, ""):
                values[name] = raw
        values.update({k: v for k, v in flags.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as err:
            first = err.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "settings"
            where = ENV.get(field)
            hint = f" (flag or {where})" if where else ""
            raise ConfigError(f"setting {field}{hint}: {first['msg']}") from None

    @property
    def use_llm(self) -> bool:
        """LLM answers when asked for, or when a model or an endpoint is configured."""
        if self.llm_enabled is not None:
            return self.llm_enabled
        return bool(self.llm_model or self.openai_api_key or self.openai_base_url)

    @property
    def resolved_llm_model(self) -> str:
        return self.llm_model or DEFAULT_LLM_MODEL

    def api_key(self) -> str | None:
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None
