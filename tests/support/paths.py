"""Where the repository's files are, for tests that read them as files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
EVAL = ROOT / "eval"


def read_corpus(doc_id: str) -> str:
    """A bundled document's raw text, as shipped in corpus/."""
    return (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8")
