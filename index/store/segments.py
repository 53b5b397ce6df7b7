"""One immutable segment of the embedded store: some documents with their
chunks, dense units, vectors and BM25 postings, written once and never changed.

Layout of ``segments/<id>/``::

    store.sqlite     docs, bodies (cleaned and original text), chunks, terms
    units.npz        per unit: chunk row, kind, sentence span, text hash (+ hash order)
    vectors.f16      float16 vectors, one row per unit (read with pread)
    dense.faiss      their index (exact, or IVF-SQ8 for a large segment)
    postings.npz     term -> chunk rows offsets (indptr) and chunk lengths
    post_docs.i32    postings: chunk rows, term by term (memory-mapped)
    post_tf.u16      postings: term counts
    meta.json        counts and statistics; written last: a segment with it is complete

Texts live in SQLite and postings and vectors in flat files, so a served
library keeps in memory only what every search needs (the dense index codes,
per-unit kinds, per-chunk lengths) and reads the rest per request."""

from __future__ import annotations

import json
import mmap
import os
import sqlite3
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from silkqa.index.ingest.types import Chunk, DocumentMeta, OffsetMap
from silkqa.index.language import fold
from silkqa.index.store import dense
from silkqa.index.store.lexical import Postings, index_tokens, lexical_text
from silkqa.index.store.types import UNIT_SENTENCE, DocumentBody, IndexedDocument, PreparedDocument

_SCHEMA = """
CREATE TABLE docs (doc_id TEXT PRIMARY KEY, meta TEXT NOT NULL, fingerprint TEXT NOT NULL, raw_length INTEGER NOT NULL,
                   first_chunk INTEGER NOT NULL, chunk_count INTEGER NOT NULL, first_unit INTEGER NOT NULL,
                   unit_count INTEGER NOT NULL, lexical_length INTEGER NOT NULL);
CREATE TABLE bodies (doc_id TEXT PRIMARY KEY, text TEXT NOT NULL, offsets TEXT NOT NULL, raw TEXT NOT NULL);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, chunk_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
                     section TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, context TEXT NOT NULL,
                     sentences TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE terms (term TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
"""
_CHUNK_COLUMNS = "doc_id, chunk_id, ordinal, section, start, end, context, sentences, text"


@dataclass(frozen=True)
class DocumentRow:
    doc_id: str
    meta: DocumentMeta
    fingerprint: str
    raw_length: int
    first_chunk: int
    chunk_count: int
    first_unit: int
    unit_count: int
    lexical_length: int  # BM25 tokens of its chunks, summed


def _chunk_row(chunk: Chunk) -> tuple[Any, ...]:
    return (
        chunk.doc_id,
        chunk.chunk_id,
        chunk.ordinal,
        json.dumps(list(chunk.section), ensure_ascii=False),
        chunk.start,
        chunk.end,
        chunk.context,
        json.dumps([list(s) for s in chunk.sentences]),
        chunk.text,
    )


def _chunk_of(row: tuple[Any, ...]) -> Chunk:
    doc_id, chunk_id, ordinal, section, start, end, context, sentences, text = row
    return Chunk(
        chunk_id=chunk_id,
        doc_id=doc_id,
        ordinal=ordinal,
        section=tuple(json.loads(section)),
        start=start,
        end=end,
        text=text,
        context=context,
        sentences=tuple((s, e) for s, e in json.loads(sentences)),
    )


def fsync_path(path: Path) -> None:
    """Flush a file or a directory (a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Writer:
    """Writes a segment's files into a (staging) directory, in any order but meta.json last."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True)
        self.db = sqlite3.connect(directory / "store.sqlite")
        self.db.executescript(_SCHEMA)
        self.vectors = open(directory / "vectors.f16", "wb")  # noqa: SIM115  # closed in finish()

    def document(self, row: DocumentRow, body: tuple[str, str, str]) -> None:
        self.db.execute(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.doc_id,
                json.dumps(row.meta.to_json(), ensure_ascii=False),
                row.fingerprint,
                row.raw_length,
                row.first_chunk,
                row.chunk_count,
                row.first_unit,
                row.unit_count,
                row.lexical_length,
            ),
        )
        self.db.execute("INSERT INTO bodies VALUES (?, ?, ?, ?)", (row.doc_id, *body))

    def chunks(self, first_row: int, rows: Iterable[tuple[Any, ...]]) -> None:
        self.db.executemany(
            f"INSERT INTO chunks (row, {_CHUNK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((first_row + i, *row) for i, row in enumerate(rows)),
        )

    def finish(
        self,
        units: dict[str, np.ndarray],
        chunk_units: np.ndarray,
        postings: Postings,
        dimension: int,
        exact_max_units: int,
        meta: dict[str, Any],
    ) -> None:
        d = self.directory
        self.vectors.close()
        n_units = len(units["chunk"])
        self.db.executemany("INSERT INTO terms VALUES (?, ?)", ((t, i) for i, t in enumerate(postings.terms)))
        self.db.commit()
        self.db.close()
        hashes = units["text_hash"]
        arrays = {**units, "chunk_units": chunk_units, "hash_order": np.argsort(hashes).astype(np.int32)}
        np.savez(d / "units.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
        np.savez(d / "postings.npz", indptr=postings.indptr, lengths=postings.lengths)
        postings.docs.astype(np.int32).tofile(d / "post_docs.i32")
        postings.tf.astype(np.uint16).tofile(d / "post_tf.u16")
        vectors = (
            np.memmap(d / "vectors.f16", np.float16, "r", shape=(n_units, dimension))
            if n_units
            else np.zeros((0, dimension), np.float16)
        )
        index = dense.build_index(vectors, exact_max_units)
        del vectors
        # Written by Python, not faiss.write_index: a full disk then raises OSError (ENOSPC), not a RuntimeError.
        (d / "dense.faiss").write_bytes(faiss.serialize_index(index).tobytes())
        stats = {
            **meta,
            "units": n_units,
            "chunks": len(postings.lengths),
            "dimension": dimension,
            "total_length": int(postings.lengths.sum()),
            "dense": "ivf-sq8" if dense.is_approximate(index) else "exact-fp16",
        }
        (d / "meta.json").write_text(json.dumps(stats))
        for name in os.listdir(d):
            fsync_path(d / name)
        fsync_path(d)


def write_segment(directory: Path, documents: list[PreparedDocument], dimension: int, exact_max_units: int) -> None:
    """A new segment of ``documents`` (cleaned, chunked and embedded) in ``directory``."""
    writer = _Writer(directory)
    chunk_base = unit_base = 0
    unit_parts: dict[str, list[np.ndarray]] = {k: [] for k in ("chunk", "kind", "start", "end", "text_hash")}
    chunk_units = [np.zeros(1, np.int64)]
    token_lists: list[list[str]] = []
    for doc in documents:
        n_chunks, n_units = len(doc.chunks), len(doc.units)
        lengths = [len(t) for t in doc.lexical]
        writer.document(
            DocumentRow(
                doc.doc_id,
                doc.document.meta,
                doc.document.fingerprint,
                len(doc.body.raw),
                chunk_base,
                n_chunks,
                unit_base,
                n_units,
                sum(lengths),
            ),
            (doc.body.text, json.dumps(doc.body.offsets.to_json()), doc.body.raw),
        )
        writer.chunks(chunk_base, (_chunk_row(c) for c in doc.chunks))
        u = doc.units
        unit_parts["chunk"].append(u.chunk.astype(np.int32) + chunk_base)
        for key in ("kind", "start", "end", "text_hash"):
            unit_parts[key].append(getattr(u, key))
        counts = np.bincount(u.chunk, minlength=n_chunks)
        chunk_units.append(unit_base + np.cumsum(counts, dtype=np.int64))
        writer.vectors.write(np.ascontiguousarray(doc.vectors, dtype=np.float16).tobytes())
        token_lists.extend(doc.lexical)
        chunk_base += n_chunks
        unit_base += n_units
    units = {k: np.concatenate(v) if v else np.zeros(0, "S16" if k == "text_hash" else np.int32) for k, v in unit_parts.items()}
    writer.finish(
        units,
        np.concatenate(chunk_units),
        Postings.build(token_lists),
        dimension,
        exact_max_units,
        {"documents": len(documents), "model": documents[0].model if documents else None},
    )


class Segment:
    """A segment opened for reading. Everything is opened here, at once: a
    segment a later update removes from the library (and deletes) stays
    readable through the open files for as long as a view holds it."""

    def __init__(self, directory: Path, number: int):
        self.directory = directory
        self.number = number  # the high bits of its keys
        self.id = directory.name
        self.meta = json.loads((directory / "meta.json").read_text())
        self.n_chunks: int = self.meta["chunks"]
        self.n_units: int = self.meta["units"]
        self.dimension: int = self.meta["dimension"]
        self.total_length: int = self.meta["total_length"]
        # Read-only and immutable: SQLite takes no locks, and one connection serves every thread.
        self._db = sqlite3.connect(f"file:{directory / 'store.sqlite'}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        with np.load(directory / "units.npz") as arrays:
            self.unit_chunk = arrays["chunk"]
            self.unit_kind = arrays["kind"]
            self.chunk_units = arrays["chunk_units"]
        with np.load(directory / "postings.npz") as arrays:
            self.indptr = arrays["indptr"]
            self.lengths = arrays["lengths"]
        # Memory-mapped, not read per request: a search reads a common term's postings only
        # where it looks chunks up (a binary search touches a few pages of a 4 MB list). The
        # pages touched count in the server's RSS, but are the OS's shared, reclaimable cache.
        self.post_docs = _mapped(directory / "post_docs.i32", np.int32)
        self.post_tf = _mapped(directory / "post_tf.u16", np.uint16)
        self.vectors = dense.VectorFile(directory / "vectors.f16", self.dimension, self.n_units)
        self.index = faiss.deserialize_index(np.fromfile(directory / "dense.faiss", dtype=np.uint8))
        starts = self._db.execute("SELECT first_chunk, doc_id FROM docs ORDER BY first_chunk").fetchall()
        self.doc_starts = np.array([s for s, _ in starts], np.int64)
        self.doc_names = [d for _, d in starts]
        self.n_documents = len(starts)
        # Files close when the last view holding the segment is gone.
        self._closed = weakref.finalize(self, _close, self._db, (self.vectors.fd,))
        if self.index.ntotal != self.n_units or len(self.lengths) != self.n_chunks or len(self.unit_kind) != self.n_units:
            raise ValueError(f"segment {self.id}: its files disagree on its size")

    # --- keys -----------------------------------------------------------------

    def key(self, rows: np.ndarray) -> np.ndarray:
        return (np.int64(self.number) << 32) | rows.astype(np.int64)

    # --- documents and chunks -------------------------------------------------

    def document_rows(self, doc_ids: Iterable[str] | None = None) -> list[DocumentRow]:
        query = "SELECT doc_id, meta, fingerprint, raw_length, first_chunk, chunk_count, first_unit, unit_count, lexical_length "
        query += "FROM docs"
        if doc_ids is None:
            cursor = self._db.execute(query + " ORDER BY first_chunk")
        else:
            ids = list(doc_ids)
            if not ids:
                return []
            cursor = self._db.execute(query + f" WHERE doc_id IN ({','.join('?' * len(ids))})", ids)
        return [
            DocumentRow(r[0], DocumentMeta.from_json(json.loads(r[1])), r[2], r[3], r[4], r[5], r[6], r[7], r[8])
            for r in cursor.fetchall()
        ]

    @cached_property
    def aliases(self) -> dict[str, frozenset[str]]:
        """Each document's title and aliases, folded: how a question names it."""
        return {
            row.doc_id: frozenset(fold(a) for a in (*row.meta.aliases, row.meta.title) if a.strip())
            for row in self.document_rows()
        }

    @cached_property
    def dates(self) -> dict[str, str]:
        """Each dated document's date (ISO)."""
        return {row.doc_id: row.meta.date for row in self.document_rows() if row.meta.date}

    def document(self, row: DocumentRow) -> IndexedDocument:
        return IndexedDocument(row.meta, row.fingerprint, row.raw_length, row.chunk_count, lambda: self.body(row.doc_id))

    def body(self, doc_id: str) -> DocumentBody:
        text, offsets, raw = self._db.execute("SELECT text, offsets, raw FROM bodies WHERE doc_id = ?", (doc_id,)).fetchone()
        return DocumentBody(text, OffsetMap.from_json(json.loads(offsets), len(text)), raw)

    def chunk(self, row: int) -> Chunk:
        found = self._db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise KeyError(row)
        return _chunk_of(found)

    def chunks(self, first: int, count: int) -> list[Chunk]:
        cursor = self._db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE row >= ? AND row < ? ORDER BY row", (first, first + count)
        )
        return [_chunk_of(r) for r in cursor.fetchall()]

    def document_of(self, rows: np.ndarray) -> list[str]:
        at = np.searchsorted(self.doc_starts, rows, side="right") - 1
        return [self.doc_names[i] for i in at.tolist()]

    def sentence_units(self, row: int) -> np.ndarray:
        lo, hi = int(self.chunk_units[row]), int(self.chunk_units[row + 1])
        rows = np.arange(lo, hi)[self.unit_kind[lo:hi] == UNIT_SENTENCE]
        return self.key(rows)

    # --- BM25 -------------------------------------------------------------------

    def term_ids(self, terms: list[str]) -> dict[str, int]:
        if not terms:
            return {}
        cursor = self._db.execute(f"SELECT term, id FROM terms WHERE term IN ({','.join('?' * len(terms))})", terms)
        return dict(cursor.fetchall())

    def df(self, terms: list[str]) -> dict[str, int]:
        return {t: int(self.indptr[i + 1] - self.indptr[i]) for t, i in self.term_ids(terms).items()}

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunk rows, counts) of one term: read-only views of the mapped files."""
        lo, hi = int(self.indptr[term_id]), int(self.indptr[term_id + 1])
        return self.post_docs[lo:hi], self.post_tf[lo:hi]

    def all_terms(self) -> list[str]:
        return [t for (t,) in self._db.execute("SELECT term FROM terms ORDER BY id")]

    def deletion_stats(self, row: DocumentRow, include_titles: bool, bigrams: bool) -> dict[str, Any]:
        """What removing document ``row`` takes from the library's BM25
        statistics: its chunks, their tokens, and each term's chunk count."""
        df: Counter[str] = Counter()
        for chunk in self.chunks(row.first_chunk, row.chunk_count):
            df.update(set(index_tokens(lexical_text(row.meta, chunk, include_titles), bigrams)))
        return {"chunks": row.chunk_count, "length": row.lexical_length, "df": dict(df)}

    # --- vectors ------------------------------------------------------------------

    @cached_property
    def hash_lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted text hashes, their unit rows): what vector reuse searches."""
        with np.load(self.directory / "units.npz") as arrays:
            hashes, order = arrays["text_hash"], arrays["hash_order"]
        return hashes[order], order

    def find_vectors(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of ``hashes`` found here, the unit rows embedding them)."""
        known, rows = self.hash_lookup
        if not len(known):
            return np.zeros(len(hashes), bool), np.zeros(len(hashes), np.int64)
        at = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
        found = known[at] == hashes
        return found, rows[at].astype(np.int64)

    def close(self) -> None:
        self._closed()


def _mapped(path: Path, dtype: type) -> np.ndarray:
    """A read-only array over a whole file, memory-mapped (mapping an empty file fails).
    The mapping outlives the descriptor and a deletion of the file, as the segment must."""
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return np.zeros(0, dtype)
        return np.frombuffer(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), dtype)


def _close(db: sqlite3.Connection, fds: tuple[int, ...]) -> None:
    db.close()
    for fd in fds:
        os.close(fd)


def merge_segments(directory: Path, sources: list[tuple[Segment, set[str]]], exact_max_units: int) -> None:
    """One segment in ``directory`` holding the documents of ``sources`` except
    each one's ``dead`` set: copied, never cleaned, tokenised or embedded again."""
    writer = _Writer(directory)
    dimension = sources[0][0].dimension
    chunk_base = unit_base = 0
    unit_parts: dict[str, list[np.ndarray]] = {k: [] for k in ("chunk", "kind", "start", "end", "text_hash")}
    chunk_units = [np.zeros(1, np.int64)]
    # Per source: where each of its chunk rows goes (-1: dropped).
    chunk_maps: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for segment, dead in sources:
        rows = [r for r in segment.document_rows() if r.doc_id not in dead]
        new_row = np.full(segment.n_chunks, -1, np.int64)
        with np.load(segment.directory / "units.npz") as arrays:
            u = {k: arrays[k] for k in unit_parts}
        for row in rows:
            bodies = segment.body(row.doc_id)
            writer.document(
                DocumentRow(
                    row.doc_id,
                    row.meta,
                    row.fingerprint,
                    row.raw_length,
                    chunk_base,
                    row.chunk_count,
                    unit_base,
                    row.unit_count,
                    row.lexical_length,
                ),
                (bodies.text, json.dumps(bodies.offsets.to_json()), bodies.raw),
            )
            writer.chunks(chunk_base, (_chunk_row(c) for c in segment.chunks(row.first_chunk, row.chunk_count)))
            new_row[row.first_chunk : row.first_chunk + row.chunk_count] = np.arange(chunk_base, chunk_base + row.chunk_count)
            lo, hi = row.first_unit, row.first_unit + row.unit_count
            unit_parts["chunk"].append((u["chunk"][lo:hi] - row.first_chunk + chunk_base).astype(np.int32))
            for key in ("kind", "start", "end", "text_hash"):
                unit_parts[key].append(u[key][lo:hi])
            offsets = segment.chunk_units[row.first_chunk : row.first_chunk + row.chunk_count + 1]
            chunk_units.append(offsets[1:] - offsets[0] + unit_base)
            for start in range(lo, hi, 65536):
                writer.vectors.write(segment.vectors.read_range(start, min(hi, start + 65536)).tobytes())
            lengths.append(segment.lengths[row.first_chunk : row.first_chunk + row.chunk_count])
            chunk_base += row.chunk_count
            unit_base += row.unit_count
        chunk_maps.append(new_row)
    units = {k: np.concatenate(v) if v else np.zeros(0, "S16" if k == "text_hash" else np.int32) for k, v in unit_parts.items()}
    postings = _merge_postings([s for s, _ in sources], chunk_maps, np.concatenate(lengths) if lengths else np.zeros(0, np.int32))
    writer.finish(
        units,
        np.concatenate(chunk_units),
        postings,
        dimension,
        exact_max_units,
        {"model": sources[0][0].meta.get("model"), "merged": len(sources)},
    )


def _merge_postings(segments: list[Segment], chunk_maps: list[np.ndarray], lengths: np.ndarray) -> Postings:
    """The postings of several segments as one: each term's list is the
    concatenation of its lists in the segments (in order, rows renumbered,
    dropped rows left out), which keeps it sorted by row. Term by segment, so
    the work and memory are those of the postings, never of a dense matrix."""
    term_lists = [np.asarray(s.all_terms(), dtype=object) for s in segments]
    merged_terms = sorted(set().union(*(set(t) for t in term_lists)))
    position = {t: i for i, t in enumerate(merged_terms)}
    # Surviving postings per (segment, merged term), then where each segment's slice starts.
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    counts = np.zeros((len(segments), len(merged_terms)), np.int64)
    for s, (segment, terms, chunk_map) in enumerate(zip(segments, term_lists, chunk_maps, strict=True)):
        n = int(segment.indptr[-1])
        docs, tf = segment.post_docs[:n], segment.post_tf[:n]
        term_of = np.repeat(np.asarray([position[t] for t in terms], np.int64), np.diff(segment.indptr))
        rows = chunk_map[docs]
        alive = rows >= 0
        kept.append((term_of[alive], rows[alive].astype(np.int32), tf[alive]))
        counts[s] = np.bincount(term_of[alive], minlength=len(merged_terms))
    indptr = np.zeros(len(merged_terms) + 1, np.int64)
    np.cumsum(counts.sum(axis=0), out=indptr[1:])
    starts = indptr[:-1] + np.vstack([np.zeros((1, len(merged_terms)), np.int64), np.cumsum(counts, axis=0)[:-1]])
    out_docs = np.empty(int(indptr[-1]), np.int32)
    out_tf = np.empty(int(indptr[-1]), np.uint16)
    for s, (term_of, rows, tf) in enumerate(kept):
        # Within a segment postings are grouped by term: rank within its group.
        group_start = np.searchsorted(term_of, term_of, side="left")
        target = starts[s][term_of] + (np.arange(len(term_of)) - group_start)
        out_docs[target] = rows
        out_tf[target] = tf
    return Postings(merged_terms, indptr, out_docs, out_tf, lengths.astype(np.int32))
