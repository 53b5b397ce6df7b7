"""The embedded store (``SILKQA_STORE=embedded``): a library on local disk as
immutable segments plus tombstones, published by generations.

Layout under the index directory::

    CURRENT                       name of the live generation (replaced atomically)
    generations/<id>.json         a generation: its segments, and per segment the
                                  documents deleted from it (tombstones)
    generations/<id>.manifest.json  its manifest (apart: a damaged manifest leaves the library readable)
    segments/<id>/                one immutable segment (``segments.py``)
    merging/<pid>-<n>/            a merge being written (outside the lock; renamed into segments/)

An update writes one new segment with the documents it adds or replaces (so it
costs what those documents cost, never the library's size), tombstones the
versions they replace or remove, and publishes a new generation: staging
directory, fsync, rename, then the ``CURRENT`` pointer replaced atomically. A
crash at any point leaves the previous generation live, and the next update
sweeps the half-written files away. Searches span every segment with the
library's own BM25 statistics (tombstoned documents' counts taken back out).
``maintain`` merges small segments, and segments heavy with tombstones, in the
background, writing the merge without holding the writers' lock (an update
goes on meanwhile; its tombstones are carried into the merge when it is
published); readers keep the generation they started with."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np

from silkqa.index.ingest.types import Chunk, SourceDocument
from silkqa.index.store import dense
from silkqa.index.store.lexical import LibraryLexical, term_weights
from silkqa.index.store.segments import DocumentRow, Segment, fsync_path, merge_segments, write_segment
from silkqa.index.store.types import (
    DenseHits,
    DocIds,
    IndexCorrupt,
    IndexedDocument,
    IndexManifest,
    IndexMissing,
    IndexOptions,
    IndexView,
    ModelIdentity,
    PreparedDocument,
    Scored,
    Staged,
    StoreName,
    StoreOptions,
)

log = logging.getLogger("silkqa")

_KEEP_GENERATIONS = 2
# A filtered dense search over at most this many units is exact, by brute force.
_BRUTE_FORCE_UNITS = 20000
# A segment with this share of its chunks tombstoned is rewritten without them.
_REWRITE_DEAD_SHARE = 0.3
# Documents looked up by id kept per view.
_FOUND_CACHE = 512
# Rows per posting below which a binary search per row beats one pass over the postings.
_BINARY_SEARCH_STEPS = 4
# Postings per remaining term above which a term is worth trying to skip: scoring
# the best ``limit`` chunks in full looks each remaining term up for them alone
# (tens of microseconds a term), while adding a term costs about 8 ns a posting.
_SKIP_WORTH = 8192


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    return True


def new_id() -> str:
    """Names sort by time: the newest generation is the last."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"


class _Part:
    """A segment as one generation sees it: with its tombstones."""

    def __init__(self, segment: Segment, dead: dict[str, dict[str, Any]]):
        self.segment = segment
        self.dead = dead
        self.dead_rows = segment.document_rows(dead) if dead else []
        self.alive_chunks: np.ndarray | None = None
        self.alive_units: np.ndarray | None = None  # packed little-endian bitmap, as FAISS reads it
        if self.dead_rows:
            chunks = np.ones(segment.n_chunks, bool)
            units = np.ones(segment.n_units, bool)
            for row in self.dead_rows:
                chunks[row.first_chunk : row.first_chunk + row.chunk_count] = False
                units[row.first_unit : row.first_unit + row.unit_count] = False
            self.alive_chunks = chunks
            self.alive_units = np.packbits(units, bitorder="little")

    @property
    def dead_chunks(self) -> int:
        return sum(r.chunk_count for r in self.dead_rows)

    @property
    def live_chunks(self) -> int:
        return self.segment.n_chunks - self.dead_chunks


def _known_vectors(parts: list[_Part], hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask of the unit text ``hashes`` some unit of ``parts`` embeds, their vectors)."""
    found = np.zeros(len(hashes), bool)
    dimension = parts[0].segment.dimension if parts else 0
    vectors = np.zeros((len(hashes), dimension), np.float32)
    for part in parts:  # tombstoned units' vectors are as good as any
        here, rows = part.segment.find_vectors(hashes)
        new = here & ~found
        if new.any():
            vectors[new] = part.segment.vectors.read(rows[new])
            found |= new
    return found, vectors


def _not_in(rows: np.ndarray, sorted_rows: np.ndarray) -> np.ndarray:
    """The ``rows`` that are not in ``sorted_rows``."""
    if not len(sorted_rows):
        return rows
    at = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    outside: np.ndarray = rows[sorted_rows[at] != rows]
    return outside


def _top(totals: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """The ``k`` of ``rows`` with the best ``totals`` and the ``k``-th best
    score (0 when there are fewer than ``k``)."""
    if len(rows) <= k:
        return rows, float(totals[rows].min()) if len(rows) == k else 0.0
    best = rows[np.argpartition(-totals[rows], k - 1)[:k]]
    return best, float(totals[best].min())


class _Documents(Mapping[str, IndexedDocument]):
    def __init__(self, view: EmbeddedView):
        self._view = view

    def __getitem__(self, doc_id: str) -> IndexedDocument:
        found = self._view.find(doc_id)
        if found is None:
            raise KeyError(doc_id)
        return found[2]

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self._view.find(doc_id) is not None

    def __iter__(self) -> Iterator[str]:
        for part in self._view.parts:
            for row in part.segment.document_rows():
                if row.doc_id not in part.dead:
                    yield row.doc_id

    def __len__(self) -> int:
        return self._view.manifest.document_count


class _Units:
    def __init__(self, view: EmbeddedView):
        self._view = view

    def __len__(self) -> int:
        return self._view.manifest.unit_count

    def sentence_units(self, chunk: int) -> np.ndarray:
        part = self._view.by_number[chunk >> 32]
        return part.segment.sentence_units(chunk & 0xFFFFFFFF)


class EmbeddedView:
    """One generation, opened for reading (implements ``IndexView``)."""

    def __init__(self, generation: str, manifest: IndexManifest, parts: list[_Part], index_options: IndexOptions, nprobe: int):
        self.generation = generation
        self.manifest = manifest
        self.parts = parts
        self.by_number = {p.segment.number: p for p in parts}
        self.nprobe = nprobe
        size = sum(p.live_chunks for p in parts)
        length = sum(p.segment.total_length - sum(d["length"] for d in p.dead.values()) for p in parts)
        self._lexical = LibraryLexical(
            size,
            length / size if size else 1.0,
            index_options.bm25_bigrams,
            index_options.bm25_bilingual,
            self._document_frequencies,
        )
        self._found: dict[str, tuple[_Part, DocumentRow, IndexedDocument] | None] = {}

    # --- what a request reads -----------------------------------------------------

    @property
    def documents(self) -> Mapping[str, IndexedDocument]:
        return _Documents(self)

    @property
    def units(self) -> _Units:
        return _Units(self)

    @property
    def lexical(self) -> LibraryLexical:
        return self._lexical

    def find(self, doc_id: str) -> tuple[_Part, DocumentRow, IndexedDocument] | None:
        """Where document ``doc_id`` lives in this generation (remembered: a
        request reads the same document many times, and a view never changes)."""
        if doc_id in self._found:
            return self._found[doc_id]
        found = None
        for part in reversed(self.parts):  # newest first
            if doc_id in part.dead:
                continue
            rows = part.segment.document_rows([doc_id])
            if rows:
                found = part, rows[0], part.segment.document(rows[0])
                break
        if len(self._found) >= _FOUND_CACHE:
            self._found.clear()
        self._found[doc_id] = found
        return found

    def chunk(self, key: int) -> Chunk:
        return self.by_number[key >> 32].segment.chunk(key & 0xFFFFFFFF)

    def chunk_count(self, doc_id: str) -> int:
        found = self.find(doc_id)
        if found is None:
            raise KeyError(doc_id)
        return found[1].chunk_count

    def chunk_keys(self, doc_id: str) -> np.ndarray:
        found = self.find(doc_id)
        if found is None:
            raise KeyError(doc_id)
        part, row, _ = found
        return part.segment.key(np.arange(row.first_chunk, row.first_chunk + row.chunk_count))

    def document_of(self, chunks: np.ndarray) -> list[str]:
        chunks = np.asarray(chunks, np.int64)
        out = [""] * len(chunks)
        for number in np.unique(chunks >> 32).tolist():
            mine = np.flatnonzero((chunks >> 32) == number)
            names = self.by_number[number].segment.document_of(chunks[mine] & 0xFFFFFFFF)
            for i, name in zip(mine.tolist(), names, strict=True):
                out[i] = name
        return out

    @cached_property
    def _aliases(self) -> dict[str, frozenset[str]]:
        out = {}
        for part in self.parts:
            out.update({doc_id: names for doc_id, names in part.segment.aliases.items() if doc_id not in part.dead})
        return out

    def aliases(self) -> dict[str, frozenset[str]]:
        return self._aliases

    def dates(self) -> dict[str, str]:
        out = {}
        for part in self.parts:  # oldest first: a newer version's date wins
            out.update({doc_id: date for doc_id, date in part.segment.dates.items() if doc_id not in part.dead})
        return out

    # --- BM25 -----------------------------------------------------------------------

    def _document_frequencies(self, terms: list[str]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for part in self.parts:
            for term, df in part.segment.df(terms).items():
                totals[term] = totals.get(term, 0) + df
            for stats in part.dead.values():
                for term in terms:
                    totals[term] = totals.get(term, 0) - stats["df"].get(term, 0)
        return {t: n for t, n in totals.items() if n > 0}

    def _contributions(
        self, part: _Part, term_id: int, weight: float, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk rows, BM25 contribution) of one query term in one segment,
        for all its postings or only for ``rows`` (sorted)."""
        docs, tf = part.segment.postings(term_id)
        if rows is not None and len(rows) * _BINARY_SEARCH_STEPS < len(docs):
            # Few rows in long postings: look each row up.
            at = np.minimum(np.searchsorted(docs, rows), max(len(docs) - 1, 0))
            hit = docs[at] == rows if len(docs) else np.zeros(len(rows), bool)
            docs, tf = rows[hit], tf[at[hit]]
        elif rows is not None:
            # Many rows: one pass over the postings against a mask is cheaper than a binary
            # search per row (at 1M chunks, 355k rows in 420k postings: 9 ms → 2-4 ms).
            wanted = np.zeros(part.segment.n_chunks, bool)
            wanted[rows] = True
            hit = wanted[docs]
            docs, tf = docs[hit], tf[hit]
        lengths = part.segment.lengths[docs]
        return docs.astype(np.int64), weight * term_weights(tf, lengths, self._lexical.avg_length)

    def _segment_top(
        self, part: _Part, weights: dict[str, float], limit: int, allowed: list[DocumentRow] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``limit`` best live chunks of one segment, exactly (MaxScore).

        A term adds at most its weight to a chunk (Lucene's term-frequency
        part is below 1), so terms are taken rarest (heaviest) first, and
        once the ``limit``-th best score so far beats what all remaining
        terms together could add, no chunk unseen yet can enter the top: the
        remaining (common, long) terms are then looked up only for the
        chunks that can still make it, and after each of them the chunks
        that no longer can are dropped. The work follows the rare terms'
        postings, not the common ones' (at 1M chunks, a Chinese question's
        lexical top-64 went from 130-470 ms to 30-90 ms when the pruning
        became term by term)."""
        ids = part.segment.term_ids(list(weights))
        terms = sorted(ids, key=lambda t: -weights[t])
        remaining = sum(weights[t] for t in terms)
        # Scores accumulate in an array over the segment's chunks: a term's postings are distinct
        # chunks, so each term is one vectorised add, with no sorting.
        totals = np.zeros(part.segment.n_chunks, np.float64)
        seen = np.zeros(part.segment.n_chunks, bool)
        top = np.zeros(0, np.int64)  # the best ``limit`` chunks so far
        kth = 0.0  # the ``limit``-th best score so far (0 while fewer are seen)
        done = 0
        taken = 0.0  # the weights of the terms looked up so far: no total exceeds it
        floor = 0.0  # the lowest full score of some ``limit`` chunks: the k-th best is at least that
        for i, term in enumerate(terms):
            if kth <= remaining and len(top) == limit and self._worth_skipping(part, ids, terms[i:]):
                # The best so far, scored in full, may already outscore every unseen chunk,
                # and then this long list and the rest are only looked up for the candidates.
                floor = max(floor, self._lowest_full_score(part, totals, top, terms[i:], ids, weights))
                kth = max(kth, floor)
            if kth > remaining:
                break
            docs, contribution = self._contributions(part, ids[term], weights[term])
            docs, contribution = self._admit(part, docs, contribution, allowed)
            totals[docs] += contribution
            seen[docs] = True
            remaining -= weights[term]
            taken += weights[term]
            done += 1
            if taken <= remaining:
                # No total can beat what is left yet, so the k-th best cannot either: the
                # top is of no use before then, and is found once, among all seen, when it is.
                continue
            # Only this term's chunks changed score: the new top is among them and the old top.
            changed = np.concatenate([docs, _not_in(top, docs)]) if len(top) else np.flatnonzero(seen)
            top, kth = _top(totals, changed, limit)
            kth = max(kth, floor)
        rows = np.flatnonzero(seen)
        # The remaining terms are looked up only for the chunks that can still reach the k-th
        # best score, which only rises: the candidates shrink term by term, and the long
        # postings of common terms are searched for few rows.
        for term in terms[done:]:
            rows = rows[totals[rows] + remaining >= kth]
            docs, contribution = self._contributions(part, ids[term], weights[term], rows)
            totals[docs] += contribution
            remaining -= weights[term]
            top, kth = _top(totals, np.concatenate([docs, _not_in(top, docs)]), limit)
            kth = max(kth, floor)
        return top, totals[top].astype(np.float32)

    @staticmethod
    def _worth_skipping(part: _Part, ids: dict[str, int], terms: list[str]) -> bool:
        """Whether ``terms[0]``'s postings are long enough to be worth a full
        scoring of the best chunks, which looks up each of ``terms``."""
        indptr = part.segment.indptr
        return int(indptr[ids[terms[0]] + 1] - indptr[ids[terms[0]]]) >= _SKIP_WORTH * len(terms)

    def _lowest_full_score(
        self, part: _Part, totals: np.ndarray, rows: np.ndarray, terms: list[str], ids: dict[str, int], weights: dict[str, float]
    ) -> float:
        """The lowest full score of ``rows``, whose ``totals`` so far lack ``terms``."""
        rows = np.sort(rows)
        return float(self._add_terms(part, rows, totals[rows], [(ids[t], weights[t]) for t in terms]).min())

    def _add_terms(self, part: _Part, rows: np.ndarray, scores: np.ndarray, terms: list[tuple[int, float]]) -> np.ndarray:
        """``scores`` of the sorted ``rows`` with each (term id, weight)'s BM25 contribution added."""
        for term_id, weight in terms:
            docs, contribution = self._contributions(part, term_id, weight, rows)
            scores[np.searchsorted(rows, docs)] += contribution
        return scores

    @staticmethod
    def _admit(
        part: _Part, docs: np.ndarray, contribution: np.ndarray, allowed: list[DocumentRow] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Postings of live chunks only, and of the allowed documents when filtered."""
        if part.alive_chunks is None and allowed is None:
            return docs, contribution
        keep = part.alive_chunks[docs] if part.alive_chunks is not None else np.ones(len(docs), bool)
        if allowed is not None:
            inside = np.zeros(len(docs), bool)
            for r in allowed:
                inside |= (docs >= r.first_chunk) & (docs < r.first_chunk + r.chunk_count)
            keep &= inside
        return docs[keep], contribution[keep]

    def _doc_ranges(self, part: _Part, doc_ids: frozenset[str]) -> list[DocumentRow]:
        return [r for r in part.segment.document_rows(doc_ids) if r.doc_id not in part.dead]

    def search_lexical(self, keywords: str, limit: int, doc_ids: DocIds = None) -> Scored:
        weights = self._lexical.weights(self._lexical.tokens(keywords))
        keys, scores = [], []
        for part in self.parts:
            allowed = self._doc_ranges(part, doc_ids) if doc_ids is not None else None
            if allowed == []:
                continue
            rows, part_scores = self._segment_top(part, weights, limit, allowed)
            keys.append(part.segment.key(rows))
            scores.append(part_scores)
        if not keys:
            return Scored.empty()
        all_keys, all_scores = np.concatenate(keys), np.concatenate(scores)
        order = np.lexsort((all_keys, -all_scores))[:limit]
        return Scored(all_keys[order], all_scores[order])

    def lexical_scores(self, keywords: str, chunks: np.ndarray) -> np.ndarray:
        weights = self._lexical.weights(self._lexical.tokens(keywords))
        out = np.zeros(len(chunks), np.float32)
        chunks = np.asarray(chunks, np.int64)
        for part in self.parts:
            mine = np.flatnonzero((chunks >> 32) == part.segment.number)
            if not len(mine):
                continue
            order = np.argsort(chunks[mine] & 0xFFFFFFFF, kind="stable")
            mine = mine[order]
            rows = chunks[mine] & 0xFFFFFFFF
            terms = [(term_id, weights[term]) for term, term_id in part.segment.term_ids(list(weights)).items()]
            scores = self._add_terms(part, rows, np.zeros(len(rows), np.float64), terms)
            if part.alive_chunks is not None:
                scores[~part.alive_chunks[rows]] = 0
            out[mine] = scores
        return out

    # --- dense --------------------------------------------------------------------------

    def search_dense(self, vector: np.ndarray, limit: int, doc_ids: DocIds = None) -> DenseHits:
        parts = []
        for part in self.parts:
            segment = part.segment
            if doc_ids is None:
                rows, sims = dense.search(segment.index, segment.vectors, vector, limit, self.nprobe, part.alive_units)
            else:
                ranges = self._doc_ranges(part, doc_ids)
                total = sum(r.unit_count for r in ranges)
                if not total:
                    continue
                if total <= _BRUTE_FORCE_UNITS:
                    allowed_rows = np.concatenate([np.arange(r.first_unit, r.first_unit + r.unit_count) for r in ranges])
                    rows, sims = dense.brute_force(segment.vectors, allowed_rows, vector, limit)
                else:
                    allowed = np.zeros(segment.n_units, bool)
                    for r in ranges:
                        allowed[r.first_unit : r.first_unit + r.unit_count] = True
                    bitmap = np.packbits(allowed, bitorder="little")
                    rows, sims = dense.search(segment.index, segment.vectors, vector, limit, self.nprobe, bitmap)
            parts.append(DenseHits(segment.key(rows), segment.key(segment.unit_chunk[rows]), sims))
        return dense.merge_hits(parts, limit)

    def unit_vectors(self, units: np.ndarray) -> np.ndarray:
        units = np.asarray(units, np.int64)
        dimension = self.parts[0].segment.dimension if self.parts else 0
        out = np.zeros((len(units), dimension), np.float32)
        for number in np.unique(units >> 32):
            mine = np.flatnonzero((units >> 32) == number)
            out[mine] = self.by_number[int(number)].segment.vectors.read(units[mine] & 0xFFFFFFFF)
        return out

    def known_vectors(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _known_vectors(self.parts, hashes)

    def check(self) -> list[str]:
        m = self.manifest
        counts = {
            "chunks": (sum(p.live_chunks for p in self.parts), m.chunk_count),
            "dense units": (sum(p.segment.n_units - sum(r.unit_count for r in p.dead_rows) for p in self.parts), m.unit_count),
            "vectors": (sum(p.segment.index.ntotal - sum(r.unit_count for r in p.dead_rows) for p in self.parts), m.unit_count),
            "documents": (sum(p.segment.n_documents - len(p.dead_rows) for p in self.parts), m.document_count),
        }
        return [f"{name}: {have} loaded, manifest says {want}" for name, (have, want) in counts.items() if have != want]

    def close(self) -> None:
        """Nothing to do: segments close when the last view holding them goes."""


class EmbeddedStore:
    """Writes and opens the embedded store (implements ``LibraryStore``)."""

    name: StoreName = "embedded"

    def __init__(self, root: Path, options: StoreOptions, index_options: IndexOptions):
        self.root = Path(root)
        self.options = options
        self.index_options = index_options
        self.segments = self.root / "segments"
        self.generations = self.root / "generations"
        self.merging = self.root / "merging"  # merges being written, one directory each, named by writer pid
        self._open_segments: dict[str, Segment] = {}
        self._segments_lock = threading.Lock()
        self._staged: set[str] = set()  # this lock holder's segments not yet in a generation
        dense.single_threaded_search()

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across processes, for a read-change-publish cycle: two
        writers never build on the same base, and one's garbage collection never
        removes the other's staging directory. The kernel releases it when its
        holder dies, so a killed writer blocks no one. Not re-entrant."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                self._staged.clear()  # uncommitted ones are garbage for the next writer
                fcntl.flock(handle, fcntl.LOCK_UN)

    def current_id(self) -> str | None:
        try:
            return self.current_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def current_generation(self) -> Path | None:
        generation = self.current_id()
        return self.generations / f"{generation}.json" if generation else None

    def exists(self) -> bool:
        path = self.current_generation()
        return path is not None and path.is_file()

    def _read_generation(self, suffix: str = ".json") -> tuple[str, dict[str, Any]]:
        generation = self.current_id()
        if generation is None:
            raise IndexMissing(f"no index in {self.root}; build one with `silkqa index`")
        path = self.generations / f"{generation}{suffix}"
        try:
            return generation, json.loads(path.read_text())
        except FileNotFoundError:
            raise IndexCorrupt(f"{self.current_file} names generation {generation}, whose {path.name} does not exist") from None
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"index manifest in {path} is unreadable: {exc}") from exc

    def read_manifest(self) -> IndexManifest:
        generation, data = self._read_generation(".manifest.json")
        try:
            return IndexManifest.from_json(data)
        except (KeyError, TypeError) as exc:
            raise IndexCorrupt(f"index manifest in generation {generation} is unreadable: {exc}") from exc

    def _parts(self) -> tuple[str, list[_Part]]:
        generation, data = self._read_generation()
        try:
            return generation, [_Part(self._segment(s["id"]), s["dead"]) for s in data["segments"]]
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise IndexCorrupt(f"index generation {generation} is unreadable ({exc}); rebuild it with `silkqa index`") from exc

    def _segment(self, segment_id: str) -> Segment:
        with self._segments_lock:
            segment = self._open_segments.get(segment_id)
            if segment is None:
                segment = Segment(self.segments / segment_id, int(segment_id.split("-", 1)[0]))
                self._open_segments[segment_id] = segment
            return segment

    def open(self) -> EmbeddedView:
        manifest = self.read_manifest()
        generation, parts = self._parts()
        counts = (sum(p.live_chunks for p in parts), manifest.chunk_count)
        if counts[0] != counts[1]:
            raise IndexCorrupt(f"index generation {generation}: {counts[0]} chunks in its segments, manifest says {counts[1]}")
        with self._segments_lock:  # forget segments no longer live (views holding them keep them open)
            live = {p.segment.id for p in parts}
            self._open_segments = {k: v for k, v in self._open_segments.items() if k in live}
        return EmbeddedView(generation, manifest, parts, self.index_options, self.options.ivf_nprobe)

    def reusable(self, model: ModelIdentity) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
        try:
            _, parts = self._parts()
        except (IndexMissing, IndexCorrupt):
            return None
        parts = [p for p in parts if p.segment.meta.get("model") == model.to_json()]
        return partial(_known_vectors, parts) if parts else None

    def read_sources(self) -> Iterator[SourceDocument]:
        for part in self._parts()[1]:
            for row in part.segment.document_rows():
                if row.doc_id not in part.dead:
                    yield SourceDocument(row.meta, part.segment.body(row.doc_id).raw)

    # --- writing ----------------------------------------------------------------------

    def _next_segment_id(self) -> str:
        self.segments.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name.split("-", 1)[0]) for p in self.segments.iterdir() if p.name[0].isdigit()]
        return f"{max(numbers, default=0) + 1:08d}-{uuid.uuid4().hex[:8]}"

    def _stage_segment(self, write: Callable[[Path], None]) -> str:
        """Under ``lock``: write a segment through ``write(directory)`` into a
        staging directory, then rename it into place; returns its id. A disk too
        full for it is first given the room the kept earlier generations take, so
        a data directory with room for two copies keeps taking updates."""
        self._drop_staging()  # a crashed writer's half-written segments take room until now
        try:
            return self._write_segment(write)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not self._collect_garbage(keep=1):
                raise
        return self._write_segment(write)

    def _drop_staging(self) -> None:
        for merge in self.merging.glob("*") if self.merging.is_dir() else ():
            if not _alive(int(merge.name.split("-", 1)[0])):  # its writer died mid-merge
                shutil.rmtree(merge, ignore_errors=True)
        for leftover in [*self.segments.glob(".tmp-*"), *self.generations.glob(".tmp-*")]:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        for pointer in self.root.glob(".CURRENT.*.tmp"):
            pointer.unlink(missing_ok=True)

    def _write_segment(self, write: Callable[[Path], None]) -> str:
        segment_id = self._next_segment_id()
        staging = self.segments / f".tmp-{segment_id}"
        try:
            write(staging)
            os.rename(staging, self.segments / segment_id)
            fsync_path(self.segments)
            self._staged.add(segment_id)
        except sqlite3.OperationalError as exc:  # SQLite's word for a full disk or a file size limit
            shutil.rmtree(staging, ignore_errors=True)
            raise OSError(errno.ENOSPC, f"cannot write the segment's texts ({exc})") from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return segment_id

    def stage(self, added: list[PreparedDocument]) -> Staged:
        """One new segment holding ``added``, not yet in any generation."""
        dimension = next((d.vectors.shape[1] for d in added), 0)
        segment_id = self._stage_segment(
            lambda directory: write_segment(directory, added, dimension, self.options.exact_max_units)
        )
        return Staged(
            segment_id,
            frozenset(d.doc_id for d in added),
            len(added),
            sum(len(d.chunks) for d in added),
            sum(len(d.units) for d in added),
        )

    def commit(self, base: IndexView | None, staged: list[Staged], removed: set[str], manifest: IndexManifest) -> EmbeddedView:
        """Under ``lock``: the staged segments added to ``base``'s, tombstones
        for ``removed`` and for the versions the staged documents replace, in a
        new generation."""
        assert base is None or isinstance(base, EmbeddedView), "a view of this store"
        segments: list[dict[str, Any]] = []
        documents = chunks = units = 0
        if base is not None:
            segments = [{"id": p.segment.id, "dead": dict(p.dead)} for p in base.parts]
            documents, chunks, units = base.manifest.document_count, base.manifest.chunk_count, base.manifest.unit_count
            replaced = set().union(*(s.doc_ids for s in staged)) if staged else set()
            for doc_id in removed | replaced:
                found = base.find(doc_id)
                if found is None:
                    continue
                part, row, _ = found
                entry = next(s for s in segments if s["id"] == part.segment.id)
                entry["dead"][doc_id] = part.segment.deletion_stats(
                    row, self.index_options.bm25_include_titles, self.index_options.bm25_bigrams
                )
                documents, chunks, units = documents - 1, chunks - row.chunk_count, units - row.unit_count
        for s in staged:
            segments.append({"id": s.id, "dead": {}})
            documents, chunks, units = documents + s.documents, chunks + s.chunks, units + s.units
        segments = [s for s in segments if not self._empty(s)]
        manifest = replace(manifest, document_count=documents, chunk_count=chunks, unit_count=units, store=self.name)
        return self._publish(manifest, segments)

    def _empty(self, entry: dict[str, Any]) -> bool:
        """A segment whose every document is tombstoned: left out of the generation."""
        return bool(entry["dead"]) and sum(s["chunks"] for s in entry["dead"].values()) >= self._segment(entry["id"]).n_chunks

    def _publish(self, manifest: IndexManifest, segments: list[dict[str, Any]]) -> EmbeddedView:
        generation = new_id()
        manifest = replace(manifest, build_id=generation)
        self.generations.mkdir(parents=True, exist_ok=True)
        staged = []
        try:
            for suffix, content in ((".json", {"segments": segments}), (".manifest.json", manifest.to_json())):
                staging = self.generations / f".tmp-{generation}{suffix}"
                staged.append(staging)
                with open(staging, "w", encoding="utf-8") as fh:
                    json.dump(content, fh, ensure_ascii=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.rename(staging, self.generations / f"{generation}{suffix}")
            fsync_path(self.generations)
            pointer = self.root / f".CURRENT.{generation}.tmp"
            pointer.write_text(generation + "\n")
            with open(pointer, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(pointer, self.current_file)
            fsync_path(self.root)
        except BaseException:
            for path in staged:
                path.unlink(missing_ok=True)
            raise
        self._collect_garbage()
        return self.open()

    def _collect_garbage(self, keep: int = _KEEP_GENERATIONS) -> bool:
        """Keep the newest ``keep`` generations and the segments they use; drop
        the rest and any staging left by a writer that died. Whether a
        generation or segment was dropped."""
        names = sorted({p.name.split(".", 1)[0] for p in self.generations.glob("*.json") if not p.name.startswith(".")})
        kept = {*names[-keep:], self.current_id()}
        dropped = False
        for old in self.generations.glob("*.json"):
            if old.name.split(".", 1)[0] not in kept:
                old.unlink(missing_ok=True)
                dropped = True
        self._drop_staging()
        used = set(self._staged)  # staged for the commit under way, in no generation yet
        for name in kept:
            try:
                used.update(s["id"] for s in json.loads((self.generations / f"{name}.json").read_text())["segments"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        if self.segments.is_dir():
            for directory in self.segments.iterdir():
                if directory.name not in used:
                    shutil.rmtree(directory, ignore_errors=True)
                    dropped = True
        return dropped

    # --- upkeep -----------------------------------------------------------------------

    def merge_plan(self, view: EmbeddedView) -> list[_Part]:
        """Segments to merge into one: with more than ``max_segments``, the
        smallest, and with them every next one no larger than they are
        together (so a merge takes a whole tier of small segments, and a
        library keeps a few segments of growing sizes rather than one large
        and many small ones: each costs a search about a millisecond however
        small it is); or a segment heavy with tombstones, rewritten alone."""
        heavy = [p for p in view.parts if p.dead_rows and p.dead_chunks >= _REWRITE_DEAD_SHARE * p.segment.n_chunks]
        if len(view.parts) > self.options.max_segments:
            by_size = sorted(view.parts, key=lambda p: p.live_chunks)
            take = len(view.parts) - self.options.max_segments + 1
            together = sum(p.live_chunks for p in by_size[:take])
            while take < len(by_size) and by_size[take].live_chunks <= together:
                together += by_size[take].live_chunks
                take += 1
            return by_size[:take]
        return heavy[:1]

    def maintain(self) -> bool:
        """Merge once if the plan says so; whether it published. The merged
        segment is written outside ``lock`` (seconds at a million chunks, and
        updates must not wait for it) and published under it."""
        planned = self.plan_merge()
        if planned is None:
            return False
        staging, plan = planned
        try:
            sources = [(p.segment, set(p.dead)) for p in plan]
            merge_segments(staging, sources, self.options.exact_max_units)
            return self.publish_merge(staging, plan)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def plan_merge(self) -> tuple[Path, list[_Part]] | None:
        """The segments to merge now and the directory to write their merge in
        (outside ``segments/``, so no writer's cleanup takes it), or None."""
        with self.lock():
            try:
                view = self.open()
            except (IndexMissing, IndexCorrupt):
                return None
            plan = self.merge_plan(view)
        if not plan:
            return None
        log.info("merging %d segments (%d chunks)", len(plan), sum(p.live_chunks for p in plan))
        self.merging.mkdir(parents=True, exist_ok=True)
        return self.merging / f"{os.getpid()}-{uuid.uuid4().hex[:8]}", plan

    def publish_merge(self, staging: Path, plan: list[_Part]) -> bool:
        """Under ``lock``: the merge written in ``staging`` in place of the
        ``plan``'s segments, with the tombstones they gained since it was
        planned; nothing (False) when an update has meanwhile dropped one of them."""
        with self.lock():
            view = self.open()
            current = {p.segment.id: p for p in view.parts}
            if any(p.segment.id not in current for p in plan):
                return False
            # Deleted or replaced while the merge was written: tombstoned in the merge too
            # (the same chunks, so the same statistics to take out).
            dead = {doc_id: stats for p in plan for doc_id, stats in current[p.segment.id].dead.items() if doc_id not in p.dead}
            merged = self._next_segment_id()
            os.rename(staging, self.segments / merged)
            fsync_path(self.segments)
            self._staged.add(merged)
            planned = {p.segment.id for p in plan}
            # The merged segment takes the place of the first of them, so the
            # newest-first order of document versions is kept.
            segments: list[dict[str, Any]] = []
            for p in view.parts:
                if p.segment.id not in planned:
                    segments.append({"id": p.segment.id, "dead": dict(p.dead)})
                elif not any(s["id"] == merged for s in segments):
                    segments.append({"id": merged, "dead": dead})
            self._publish(view.manifest, [s for s in segments if not self._empty(s)])
            return True
