"""One typed settings tree, filled from flags, then the environment, then defaults.

The tree has a section per stage: ``index`` (where the index lives and how ingest
batches), ``chunking`` and ``embedding`` (what shapes the index), ``retrieval``,
``answer`` (the limits of written answers), ``llm`` and ``openai`` (the endpoint and
key both the LLM and the embeddings endpoint use). Every field is described and
validated; ``Settings`` forbids unknown names.

``Settings.load(**flags)`` is the one reader of the environment: it reads the
variables of ``ENV`` (``IMR_ASSIST_*``, and the ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``
that the openai client reads) with pydantic-settings, then lets the flags win.
``Settings(...)`` alone reads no environment. Flags and the environment use the flat
names of ``FLAT`` (``index_dir``, ``k``, ``llm_model``...), which are also read-only
attributes; the sections are the structure.

``index_fingerprint`` is what an index records of the settings that shape it (the
embedder and its model, whose window sizes the chunks, and the chunker's version and
overlap); an index built under another fingerprint must be rebuilt.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from imr_assist.errors import ConfigError

DEFAULT_LLM_MODEL = "gpt-4o-mini"

T = TypeVar("T")

_STRICT = ConfigDict(extra="forbid", validate_assignment=True)


class IndexSettings(BaseModel):
    model_config = _STRICT

    dir: Path = Field(Path("index"), description="Folder of the embedded Chroma index")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (chroma run); overrides dir for vectors"
    )
    batch_letters: int = Field(
        16,
        ge=1,
        description="Letters embedded and committed together; bounds memory and the work a "
        "crash loses. Sixteen letters are about a hundred chunks: full batches for the model.",
    )
    pipeline_depth: int = Field(
        2,
        ge=1,
        description="Batches waiting between two ingest stages: enough to keep the model busy "
        "while the next batch is parsed and the last one written, few enough to bound memory.",
    )


class ChunkingSettings(BaseModel):
    model_config = _STRICT

    version: int = Field(
        1,
        ge=1,
        description="Version of the chunker (index/chunking.py); raise it when the chunks it "
        "makes change, so that existing indexes are rebuilt",
    )
    overlap_tokens: int = Field(
        32,
        ge=0,
        description="Tokens shared by two parts of a split section, so a sentence cut at a "
        "part's end is whole in one of them",
    )


class EmbeddingSettings(BaseModel):
    model_config = _STRICT

    backend: str = Field(
        "onnx",
        description="A registered embedder (index/embed.py EMBEDDERS): 'onnx', the bundled "
        "all-MiniLM-L6-v2, or 'openai', a /v1/embeddings endpoint",
    )
    model_path: str | None = Field(
        None,
        description="Another ONNX export of all-MiniLM-L6-v2 to use instead of the bundled one",
    )
    api_model: str | None = Field(
        None, description="Model name for the 'openai' embedder, e.g. text-embedding-3-small"
    )
    base_url: str | None = Field(
        None, description="Base URL for the 'openai' embedder (default: openai.base_url)"
    )
    batch_size: int = Field(
        64, ge=1, le=2048, description="Texts per request to an embeddings endpoint"
    )
    concurrency: int = Field(
        4, ge=1, le=64, description="Embeddings requests in flight at once ('openai' embedder)"
    )


class RetrievalSettings(BaseModel):
    model_config = _STRICT

    k: int = Field(8, ge=1, le=200, description="Passages retrieved per question")
    rrf_k: int = Field(
        60,
        ge=1,
        description="Reciprocal rank fusion constant (the usual 60: later ranks still count "
        "a little)",
    )
    candidates: int = Field(
        50, ge=1, description="Candidates taken from the dense and the BM25 list before fusion"
    )
    exact_chunks: int = Field(
        50_000,
        ge=0,
        description="Most chunks a question's filters (or a small index) may leave for them to "
        "be scored exactly from the catalog's copy of their vectors (the vector file: 50,000 "
        "rows read and scored in about 60 ms), without opening the vector store; above it "
        "Chroma answers (0: always Chroma)",
    )


class AnswerSettings(BaseModel):
    model_config = _STRICT

    min_sentence_relevance: float = Field(
        0.62,
        ge=0,
        le=1,
        description="A topic no passage words: sentences of the best-ranked passages at this "
        "cosine similarity to the question or more are shown as close in meaning",
    )
    min_relevance: float = Field(
        0.30,
        ge=0,
        le=1,
        description="Below this dense similarity, an unfiltered question is taken as off-topic",
    )
    examples_per_reason: int = Field(
        3, ge=1, description="Items quoted per reason category; the counts cover every item"
    )
    max_listed: int = Field(
        40, ge=1, description="Items listed one per line before the rest are 'and N more'"
    )
    compared_per_side: int = Field(
        5, ge=1, description="Items quoted per treatment and decision in a comparison"
    )
    max_groups: int = Field(
        8, ge=1, description="Treatments (or classes) shown side by side in a comparison"
    )
    max_letters: int = Field(5, ge=1, description="Letters shown by a case summary")


class LLMSettings(BaseModel):
    model_config = _STRICT

    model: str | None = Field(None, description="Model that writes answers; None: extractive")
    enabled: bool | None = Field(
        None, description="Force LLM answers on or off; None decides from model and endpoint"
    )
    timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds per LLM request; None: 60, or 900 for a loopback base URL "
        "(a local model on a CPU can take minutes over one prompt)",
    )
    max_retries: int = Field(3, ge=0, le=10, description="Retries on 429, 5xx and timeouts")
    evidence_tokens: int = Field(
        1500,
        ge=200,
        le=100_000,
        description="Evidence the LLM prompt may hold, in tokens (about 4 characters each); "
        "the extractive answer's own citations are always included",
    )
    max_tokens: int = Field(
        700, ge=16, le=32_000, description="Most tokens the LLM may write per reply"
    )
    read_plans: bool = Field(
        False,
        description="Let the LLM read questions into plans (checked; the rule reader is "
        "the fallback)",
    )


class OpenAISettings(BaseModel):
    model_config = _STRICT

    base_url: str | None = Field(None, description="OpenAI-compatible server URL")
    api_key: SecretStr | None = Field(None, description="API key (never printed)")

    def key(self) -> str | None:
        """The API key itself, for the client that sends it."""
        return self.api_key.get_secret_value() if self.api_key else None


#: Flat name (a flag, a ``Settings(...)`` keyword, a read-only attribute) -> its section,
#: field and environment variable (None: a flag only).
FLAT: dict[str, tuple[str, str, str | None]] = {
    "index_dir": ("index", "dir", "IMR_ASSIST_INDEX"),
    "chroma_url": ("index", "chroma_url", "IMR_ASSIST_CHROMA_URL"),
    "embedder": ("embedding", "backend", "IMR_ASSIST_EMBEDDER"),
    "embed_model_path": ("embedding", "model_path", "IMR_ASSIST_EMBED_MODEL"),
    "embed_api_model": ("embedding", "api_model", "IMR_ASSIST_EMBED_API_MODEL"),
    "embed_base_url": ("embedding", "base_url", "IMR_ASSIST_EMBED_BASE_URL"),
    "embed_batch_size": ("embedding", "batch_size", "IMR_ASSIST_EMBED_BATCH"),
    "embed_concurrency": ("embedding", "concurrency", "IMR_ASSIST_EMBED_CONCURRENCY"),
    "llm_model": ("llm", "model", "IMR_ASSIST_MODEL"),
    "llm_enabled": ("llm", "enabled", None),
    "llm_timeout": ("llm", "timeout", "IMR_ASSIST_LLM_TIMEOUT"),
    "llm_max_retries": ("llm", "max_retries", "IMR_ASSIST_LLM_RETRIES"),
    "llm_evidence_tokens": ("llm", "evidence_tokens", "IMR_ASSIST_LLM_EVIDENCE_TOKENS"),
    "llm_max_tokens": ("llm", "max_tokens", "IMR_ASSIST_LLM_MAX_TOKENS"),
    "llm_read_plans": ("llm", "read_plans", "IMR_ASSIST_LLM_PLANS"),
    "k": ("retrieval", "k", "IMR_ASSIST_K"),
    "exact_chunks": ("retrieval", "exact_chunks", "IMR_ASSIST_EXACT_CHUNKS"),
    "openai_base_url": ("openai", "base_url", "OPENAI_BASE_URL"),
    "openai_api_key": ("openai", "api_key", "OPENAI_API_KEY"),
}
#: Flat name -> environment variable.
ENV: dict[str, str] = {name: var for name, (_s, _f, var) in FLAT.items() if var}


class _Flat(Generic[T]):
    """A flat name of ``FLAT`` read as an attribute: ``settings.k`` is
    ``settings.retrieval.k``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.section, self.field, _var = FLAT[name]

    def __get__(self, obj: object, owner: type | None = None) -> T:
        value: T = getattr(getattr(obj, self.section), self.field)
        return value


class Settings(BaseModel):
    """Every knob the tool has. Build with ``Settings.load(**flags)``."""

    model_config = _STRICT

    index: IndexSettings = Field(default_factory=IndexSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_names(cls, data: Any) -> Any:
        """``Settings(index_dir=..., k=...)``: flat names go into their sections."""
        return _nested(data) if isinstance(data, dict) else data

    @classmethod
    def load(cls, **flags: Any) -> Settings:
        """Flags (non-None) win over environment variables, which win over defaults."""
        values = {**_environment(), **{k: v for k, v in flags.items() if v is not None}}
        try:
            return cls(**values)
        except ValidationError as err:
            raise _config_error(err) from None

    def with_flags(self, **flags: Any) -> Self:
        """A copy with these flat names (``llm_model=...``) or sections replaced."""
        data = self.model_dump()
        data.update(_nested(flags))
        try:
            return type(self)(**data)
        except ValidationError as err:
            raise _config_error(err) from None

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        # ``update`` may name flat settings; they go through validation into their sections.
        if update and any(name in FLAT for name in update):
            return self.with_flags(**update)
        return super().model_copy(update=update, deep=deep)

    # --- what callers read ----------------------------------------------------------

    @property
    def use_llm(self) -> bool:
        """LLM answers when asked for, or when a model or an endpoint is configured."""
        if self.llm.enabled is not None:
            return self.llm.enabled
        return bool(self.llm.model or self.openai.api_key or self.openai.base_url)

    @property
    def resolved_llm_model(self) -> str:
        return self.llm.model or DEFAULT_LLM_MODEL

    def api_key(self) -> str | None:
        return self.openai.key()

    def chunker_fingerprint(self) -> str:
        """The chunker's part of the index fingerprint: its version and overlap."""
        return f"chunker v{self.chunking.version}, overlap {self.chunking.overlap_tokens}"

    def index_fingerprint(self, embedder: str) -> str:
        """What an index records of the settings that shape it; ``embedder`` names the
        embedder and its model. Another fingerprint means the index must be rebuilt."""
        return f"{embedder}; {self.chunker_fingerprint()}"

    # The flat names, read-only (see ``FLAT``).
    index_dir: ClassVar[_Flat[Path]] = _Flat()
    chroma_url: ClassVar[_Flat[str | None]] = _Flat()
    embedder: ClassVar[_Flat[str]] = _Flat()
    embed_model_path: ClassVar[_Flat[str | None]] = _Flat()
    embed_api_model: ClassVar[_Flat[str | None]] = _Flat()
    embed_base_url: ClassVar[_Flat[str | None]] = _Flat()
    embed_batch_size: ClassVar[_Flat[int]] = _Flat()
    embed_concurrency: ClassVar[_Flat[int]] = _Flat()
    llm_model: ClassVar[_Flat[str | None]] = _Flat()
    llm_enabled: ClassVar[_Flat[bool | None]] = _Flat()
    llm_timeout: ClassVar[_Flat[float | None]] = _Flat()
    llm_max_retries: ClassVar[_Flat[int]] = _Flat()
    llm_evidence_tokens: ClassVar[_Flat[int]] = _Flat()
    llm_read_plans: ClassVar[_Flat[bool]] = _Flat()
    llm_max_tokens: ClassVar[_Flat[int]] = _Flat()
    k: ClassVar[_Flat[int]] = _Flat()
    openai_base_url: ClassVar[_Flat[str | None]] = _Flat()


def openai_environment() -> OpenAISettings:
    """The OpenAI endpoint and key the environment names (for clients built without
    ``Settings``)."""
    env = _environment()
    try:
        return OpenAISettings(
            base_url=env.get("openai_base_url"), api_key=env.get("openai_api_key")
        )
    except ValidationError as err:
        raise _config_error(err) from None


def _nested(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each flat name (``FLAT``) moved into its section."""
    if not any(name in FLAT for name in data):
        return data
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name not in FLAT:
            out[name] = value
            continue
        section, field, _var = FLAT[name]
        current = out.get(section)
        if isinstance(current, BaseModel):
            current = current.model_dump()
        out[section] = {**(current or {}), field: value}
    return out


def _environment() -> dict[str, str]:
    """The ``ENV`` variables that are set and not empty, by flat name."""
    # pydantic-settings costs tens of milliseconds to import: only when a command loads
    # its settings, never at import.
    from pydantic import create_model
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class _Env(BaseSettings):
        model_config = SettingsConfigDict(
            case_sensitive=True, env_ignore_empty=True, extra="ignore"
        )

    fields: dict[str, Any] = {
        name: (str | None, Field(None, validation_alias=var)) for name, var in ENV.items()
    }
    env = create_model("Environment", __base__=_Env, **fields)()
    return {k: v for k, v in env.model_dump().items() if v is not None}


def _config_error(err: ValidationError) -> ConfigError:
    """The first problem, named by its flag and environment variable where it has them."""
    first = err.errors()[0]
    loc = tuple(str(p) for p in first["loc"])
    name = ".".join(loc) or "settings"
    for flat, (section, field, var) in FLAT.items():
        if loc[:2] == (section, field):
            name = flat
            hint = f" (flag or {var})" if var else ""
            return ConfigError(f"setting {name}{hint}: {first['msg']}")
    return ConfigError(f"setting {name}: {first['msg']}")


#: The defaults, for modules that need a tuning value where no ``Settings`` is passed.
DEFAULTS = Settings()
