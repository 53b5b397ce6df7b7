"""The bundled corpus: documents listed in a manifest (raw text plus metadata),
shipped inside the package (``silkqa.corpus``) so an installed wheel has it."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from silkqa.index.ingest.types import CorpusError, DocumentMeta, SourceDocument


def bundled_corpus_dir() -> Path:
    """The corpus shipped with silkqa (the repository's ``corpus/`` folder,
    installed as package data). Packages install as plain files, never zipped,
    so the resource is a real directory."""
    return Path(str(resources.files("silkqa.corpus")))


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


_FINGERPRINT_MODULUS = 1 << 256


def corpus_fingerprint(documents: list[SourceDocument]) -> str:
    """One fingerprint for a set of documents, whatever their order: the sum of
    their own (SHA-256) fingerprints, so an update adjusts it by the documents
    it adds and removes (``fingerprint_changed``) without reading the others."""
    return fingerprint_changed(fingerprint_changed("", []), [d.fingerprint for d in documents])


def fingerprint_changed(total: str, added: list[str], removed: tuple[str, ...] = ()) -> str:
    value = int(total, 16) if total else 0
    value += sum(int(f, 16) for f in added) - sum(int(f, 16) for f in removed)
    return f"{value % _FINGERPRINT_MODULUS:064x}"
