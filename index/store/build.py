"""Documents -> cleaned text -> chunks -> dense units -> vectors + BM25 tokens:
``PreparedDocument``s, ready for any store.

Dense retrieval works on *units*, not whole chunks: USE ranks Chinese text far
better sentence by sentence than over a 300-character window. Each chunk
contributes its sentences plus one *context* unit (document title and section
path, and a table row's inherited headers), so a question phrased like a
heading ("人才队伍建设有哪些要求") finds the section even when no single sentence
says so. A chunk's dense score is the best of its units.

Where the time goes (bench/SCALE.md has the profile): the embedding model's
matrix products are nine tenths of an ingest, cleaning and chunking a few per
cent, tokenising for BM25 most of the rest. A bulk ingest therefore runs in
worker processes, each with its own model pinned to ``embed_threads`` BLAS
threads (two processes of one thread each beat one of two threads by far on
two shared cores), and reuses the vector of every unit text some document of
the library already embedded (keyed by the text's hash)."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from silkqa.index.ingest.chunking import chunk_document
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.structure import format_path
from silkqa.index.ingest.types import Chunk, DocumentMeta, SourceDocument
from silkqa.index.store.embedding import Embedder
from silkqa.index.store.lexical import index_tokens, lexical_text
from silkqa.index.store.types import (
    INDEX_FORMAT,
    UNIT_CONTEXT,
    UNIT_SENTENCE,
    DocumentBody,
    EmbedBackend,
    IndexedDocument,
    IndexManifest,
    IndexOptions,
    ModelIdentity,
    PreparedDocument,
    Units,
)

log = logging.getLogger("silkqa")

# Texts per embedding task: enough to keep a worker's model busy, few enough
# that a progress bar moves and the two workers finish together.
_EMBED_BATCH = 256
# A bulk ingest with fewer chunks than this runs in this process: worker
# processes cost seconds to start (each loads the model).
_POOL_MIN_CHARS = 200_000

KnownVectors = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Progress = Callable[[int, int], None]  # (done, total) of the work at hand: units to embed, or documents


def code_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("silkqa")
    except PackageNotFoundError:
        return "source"


def context_text(meta: DocumentMeta, chunk: Chunk) -> str:
    parts = [meta.title, format_path(chunk.section), chunk.context]
    return "：".join(p for p in parts if p)


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def build_units(meta: DocumentMeta, text: str, chunks: list[Chunk], embed_section_path: bool = True) -> tuple[Units, list[str]]:
    """One document's dense units (chunk by chunk: its context unit, then its
    sentences) and the text each embeds."""
    rows: list[tuple[int, int, int, int]] = []
    texts: list[str] = []
    for idx, chunk in enumerate(chunks):
        rows.append((idx, UNIT_CONTEXT, -1, -1))
        if embed_section_path:
            texts.append(context_text(meta, chunk))
        else:
            texts.append("：".join(p for p in (meta.title, chunk.context) if p))
        # A sentence is embedded with its section's title, so "项目每年提供清洁电力…"
        # in the box on the Mozura wind farm knows which project it is about.
        leaf = chunk.section[-1] if chunk.section else meta.title
        for s, e in chunk.sentences:
            rows.append((idx, UNIT_SENTENCE, s, e))
            texts.append(f"{leaf}：{text[s:e]}" if embed_section_path else text[s:e])
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    units = Units(
        chunk=arr[:, 0].astype(np.int32),
        kind=arr[:, 1].astype(np.int8),
        start=arr[:, 2].astype(np.int32),
        end=arr[:, 3].astype(np.int32),
        text_hash=np.array([text_hash(t) for t in texts], dtype="S16"),
    )
    return units, texts


@dataclass
class _Parsed:
    """A document cleaned, chunked and tokenised, not yet embedded (what a
    worker process sends back: plain data)."""

    meta: DocumentMeta
    fingerprint: str
    body: DocumentBody
    chunks: list[Chunk]
    units: Units
    unit_texts: list[str]
    lexical: list[list[str]]
    lexical_texts: list[str]


def parse(source: SourceDocument, options: IndexOptions) -> _Parsed:
    cleaned = clean(source.raw)
    chunks = chunk_document(source.meta.doc_id, cleaned.text, options.chunking)
    units, unit_texts = build_units(source.meta, cleaned.text, chunks, options.embed_section_path)
    texts = [lexical_text(source.meta, c, options.bm25_include_titles) for c in chunks]
    # bm25s could not index an empty token list; a placeholder kept the lengths, and keeps them here.
    lexical = [index_tokens(t, options.bm25_bigrams) or ["\x00"] for t in texts]
    body = DocumentBody(cleaned.text, cleaned.offsets, source.raw)
    return _Parsed(source.meta, source.fingerprint, body, chunks, units, unit_texts, lexical, texts)


def _finish(parsed: _Parsed, vectors: np.ndarray, fresh: np.ndarray, model: ModelIdentity) -> PreparedDocument:
    document = IndexedDocument.of(parsed.meta, parsed.body, parsed.fingerprint, len(parsed.chunks))
    return PreparedDocument(
        document,
        parsed.body,
        parsed.chunks,
        parsed.units,
        parsed.lexical,
        parsed.lexical_texts,
        vectors,
        model.to_json(),
        embedded_units=int(fresh.sum()),
        embedded_chunks=len(np.unique(parsed.units.chunk[fresh])),
    )


def _reuse(parsed: _Parsed, known: KnownVectors, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """(vectors with the known rows filled in, mask of the units still to embed)."""
    vectors = np.zeros((len(parsed.unit_texts), dimension), np.float32)
    found, found_vectors = known(parsed.units.text_hash)
    if found.any():
        vectors[found] = found_vectors[found]
    return vectors, ~found


def prepare(
    source: SourceDocument, embedder: Embedder, options: IndexOptions, known: KnownVectors, progress: Progress | None = None
) -> PreparedDocument:
    """One document, in this process: what an update adds."""
    parsed = parse(source, options)
    vectors, fresh = _reuse(parsed, known, embedder.identity.dimension)
    texts = [t for t, new in zip(parsed.unit_texts, fresh, strict=True) if new]
    if texts:
        log.info("embedding %d new units (%d reused)", len(texts), int((~fresh).sum()))
        rows = np.flatnonzero(fresh)
        for start in range(0, len(texts), _EMBED_BATCH):
            vectors[rows[start : start + _EMBED_BATCH]] = embedder.encode(texts[start : start + _EMBED_BATCH])
            if progress is not None:
                progress(min(start + _EMBED_BATCH, len(texts)), len(texts))
    return _finish(parsed, vectors, fresh, embedder.identity)


# --- bulk ingest across processes ------------------------------------------------------

_worker_embedder: Embedder | None = None
_DONE: Future[_Parsed] = Future()  # a collected slot, so its result can be freed


def _start_worker(model: str, threads: int, backend: EmbedBackend) -> None:
    global _worker_embedder
    _worker_embedder = Embedder(model, threads=threads, backend=backend)


def _embed_in_worker(texts: list[str]) -> np.ndarray:
    assert _worker_embedder is not None, "the pool initializer loads the model"
    return _worker_embedder.encode(texts)


def _pool(workers: int, model: str, threads: int, backend: EmbedBackend) -> ProcessPoolExecutor:
    # forkserver: the workers start clean, without this process's threads and model.
    context = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(model, threads, backend))


def prepare_many(
    sources: Iterable[SourceDocument],
    embedder: Embedder,
    options: IndexOptions,
    known: KnownVectors,
    batch_chunks: int,
    workers: int,
    threads: int,
    progress: Progress | None = None,
) -> Generator[list[PreparedDocument], None, None]:
    """Every source prepared, in batches of about ``batch_chunks`` chunks (one
    segment each), in order. With ``workers`` > 1 and enough text, cleaning,
    chunking and embedding run in that many processes while this one
    reuses known vectors and hands out the work."""
    sources = list(sources)
    if workers <= 1 or sum(len(s.raw) for s in sources) < _POOL_MIN_CHARS:
        batch: list[PreparedDocument] = []
        for number, source in enumerate(sources, start=1):
            batch.append(prepare(source, embedder, options, known))
            if progress is not None:
                progress(number, len(sources))
            if sum(len(d.chunks) for d in batch) >= batch_chunks:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    yield from _prepare_in_pool(sources, embedder, options, known, batch_chunks, workers, threads, progress)


def _prepare_in_pool(
    sources: list[SourceDocument],
    embedder: Embedder,
    options: IndexOptions,
    known: KnownVectors,
    batch_chunks: int,
    workers: int,
    threads: int,
    progress: Progress | None,
) -> Generator[list[PreparedDocument], None, None]:
    dimension = embedder.identity.dimension
    pool = _pool(workers, embedder.identity.name, threads, embedder.backend)
    try:
        # Documents are handed out a few ahead of the one being collected, so
        # a consumer that stops early (a time budget) leaves little work behind.
        ahead = 4 * workers
        parsing = [pool.submit(parse, s, options) for s in sources[:ahead]]
        pending: list[tuple[_Parsed, np.ndarray, np.ndarray, list[tuple[np.ndarray, Future[np.ndarray]]]]] = []
        batch_size = done = 0
        for number in range(len(sources)):
            parsed = parsing[number].result()
            parsing[number] = _DONE
            if number + ahead < len(sources):
                parsing.append(pool.submit(parse, sources[number + ahead], options))
            vectors, fresh = _reuse(parsed, known, dimension)
            rows = np.flatnonzero(fresh)
            tasks = []
            for i in range(0, len(rows), _EMBED_BATCH):
                part = rows[i : i + _EMBED_BATCH]
                tasks.append((part, pool.submit(_embed_in_worker, [parsed.unit_texts[r] for r in part])))
            pending.append((parsed, vectors, fresh, tasks))
            batch_size += len(parsed.chunks)
            if batch_size >= batch_chunks:
                yield _collect(pending, embedder.identity)
                done += len(pending)
                if progress is not None:
                    progress(done, len(sources))
                pending, batch_size = [], 0
        if pending:
            yield _collect(pending, embedder.identity)
            if progress is not None:
                progress(len(sources), len(sources))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    pending: list[tuple[_Parsed, np.ndarray, np.ndarray, list[tuple[np.ndarray, Future[np.ndarray]]]]], model: ModelIdentity
) -> list[PreparedDocument]:
    out = []
    for parsed, vectors, fresh, tasks in pending:
        for rows, task in tasks:
            vectors[rows] = task.result()
        out.append(_finish(parsed, vectors, fresh, model))
    return out


def new_manifest(
    model: ModelIdentity, options: IndexOptions, fingerprint: str, library_edited: bool, built_at: str, **counts: Any
) -> IndexManifest:
    """The manifest of a library about to be published (the store fills in its
    counts and id)."""
    return IndexManifest(
        format=INDEX_FORMAT,
        model=model.to_json(),
        options=options.to_json(),
        corpus_fingerprint=fingerprint,
        document_count=0,
        chunk_count=0,
        unit_count=0,
        built_at=built_at,
        code_version=code_version(),
        library_edited=library_edited,
        **counts,
    )


def staleness(manifest: IndexManifest, model: ModelIdentity, options: IndexOptions, fingerprint: str | None) -> list[str]:
    """Why an index cannot serve the current configuration ([] when it can)."""
    reasons = []
    if manifest.format != INDEX_FORMAT:
        reasons.append(f"index format {manifest.format} != {INDEX_FORMAT} (silkqa was upgraded)")
    if manifest.model != model.to_json():
        reasons.append(f"built with model {json.dumps(manifest.model)}, configured {json.dumps(model.to_json())}")
    if manifest.options != options.to_json():
        reasons.append(f"built with options {json.dumps(manifest.options)}, configured {json.dumps(options.to_json())}")
    if fingerprint is not None and manifest.corpus_fingerprint != fingerprint:
        reasons.append("the corpus changed since the index was built")
    return reasons
