"""Documents as they enter the index: raw text plus metadata from the manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class DocumentMeta:
    doc_id: str
    title: str
    issuer: str | None = None
    date: str | None = None
    doc_number: str | None = None
    kind: str | None = None
    original_file: str | None = None
    title_en: str | None = None
    date_note: str | None = None
    aliases: tuple[str, ...] = ()  # what users call it: "指导意见", "那篇论文"
    source_format: str | None = None  # how an uploaded document's text was obtained: text, markdown, html, pdf, docx

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> DocumentMeta:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["aliases"] = tuple(known.get("aliases") or ())
        return cls(**known)


@dataclass(frozen=True)
class SourceDocument:
    meta: DocumentMeta
    raw: str

    @property
    def fingerprint(self) -> str:
        payload = json.dumps(self.meta.to_json(), sort_keys=True, ensure_ascii=False) + "\x1f" + self.raw
        return hashlib.sha256(payload.encode()).hexdigest()


class CorpusError(ValueError):
    """The corpus directory or its manifest is unusable."""


def load_corpus(corpus_dir: Path) -> list[SourceDocument]:
    """Documents listed in ``corpus_dir/manifest.json``, in manifest order."""
    manifest_path = corpus_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CorpusError(f"no manifest.json in {corpus_dir}") from exc
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{manifest_path} is not valid JSON: {exc}") from exc
    documents = []
    for entry in manifest.get("documents", []):
        path = (corpus_dir / entry["file"]).resolve()
        if corpus_dir.resolve() not in path.parents:
            raise CorpusError(f"manifest entry {entry['doc_id']!r} points outside the corpus")
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CorpusError(f"cannot read {path.name}: {exc}") from exc
        documents.append(SourceDocument(DocumentMeta.from_json(entry), raw))
    if len({d.meta.doc_id for d in documents}) != len(documents):
        raise CorpusError("duplicate doc_id in manifest.json")
    return documents


def corpus_fingerprint(documents: list[SourceDocument]) -> str:
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.meta.doc_id):
        digest.update(doc.fingerprint.encode())
    return digest.hexdigest()
