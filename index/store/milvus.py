"""The Milvus store (``SILKQA_STORE=milvus``): the library in Milvus, where
any number of silkqa processes share it.

``SILKQA_MILVUS_URI`` is a local ``.db`` path (Milvus Lite, embedded in this
process: one process per file) or ``http://host:19530`` (a Milvus 2.5+
standalone or cluster, or a ``milvus-lite server``). Collections, named
``<prefix>_<what>``:

    chunks     a chunk per row: its BM25 tokens (``tokens``), turned into a
               sparse vector by Milvus' BM25 function
    units      a dense unit per row: its chunk and its float vector
    documents  a document revision per row: metadata, counts
    texts      its cleaned and original texts and offset map, in pieces
               (a VARCHAR holds at most 64 KiB)
    terms      document frequency of every word and bigram (silkqa's own
               tokens), for the answer's word weights and English translations
    dead       revisions deleted or replaced, and when
    state      one row: the published generation and its manifest

Every row carries its document revision (``rev``) and the generation that
added it (``born``). An update inserts its rows with the next generation
number, records the revisions it ends in ``dead``, and publishes by
rewriting the ``state`` row: readers of generation G see the rows born at or
before G whose revision was not dead at G, so a request reading one
generation never mixes two, and rows of a crashed update (born after the
published generation) are never seen and are swept by the next one. Dead
revisions are deleted ``_RETAIN_SECONDS`` after they died, long after any
request that could still read them.

Writers are serialised by the lock file in the data directory, which
replicas on one host share (deploy/docker-compose.milvus.yml mounts one
volume into both). ``terms`` is updated by each update before it publishes:
an update killed in between leaves the word weights of that document off by
its own counts (retrieval itself uses Milvus' BM25 statistics).

The tokens are silkqa's own (jieba words with the domain dictionary, NFKC
folding, stopwords, Chinese character bigrams, the English-to-Chinese
bridge), not those of Milvus' jieba analyzer: with that analyzer on the words
and a second BM25 field for the bigrams, the development set lost 0.06 of
recall@1 against the embedded store (bench/SCALE.md); with the same tokens
Milvus' BM25 function scores what the embedded store scores. Milvus scores
with its own statistics (Milvus Lite's are per segment, a documented Lite
limitation; a Milvus server's are the collection's), and silkqa fuses BM25
with dense scores itself (``hybrid.py``)."""

from __future__ import annotations

import fcntl
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient, MilvusException

from silkqa.index.ingest.types import Chunk, DocumentMeta, OffsetMap, SourceDocument
from silkqa.index.language import fold
from silkqa.index.store.lexical import K1, B, LibraryLexical, index_tokens, lexical_text
from silkqa.index.store.types import (
    DenseHits,
    DocIds,
    DocumentBody,
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
# pymilvus warns on every query iterator Milvus Lite opens (it has no MVCC timestamps to give).
logging.getLogger("pymilvus").setLevel(logging.ERROR)

_RETAIN_SECONDS = 600
_TEXT_PIECE = 16000  # characters: at most 48 KiB of UTF-8, under VARCHAR's 64 KiB
_MAX_VARCHAR = 65535
_REV_BITS = 24  # a row key is rev << 24 | its position in the document (revisions numbered from 1 up)
_BATCH = 500
_FILTER_KEYS = 4000  # keys per "key in [...]" filter
_OVERFETCH = 2
_NON_WORD = re.compile(r"\W")  # dead revisions kept for in-flight readers may take places in a search: ask for more


def token_text(tokens: list[str]) -> str:
    """silkqa's BM25 tokens as the text Milvus analyses: joined by spaces, each
    with its non-word characters made "_" so no tokenizer splits it further."""
    return " ".join(_NON_WORD.sub("_", t) for t in tokens)


def _chunk_of(stored: str) -> tuple[Chunk, int]:
    """A chunk as stored (JSON), and the position of its first unit in its document."""
    data = json.loads(stored)
    first_unit = data.pop("first_unit")
    data["section"] = tuple(data["section"])
    data["sentences"] = tuple(tuple(s) for s in data["sentences"])
    return Chunk(**data), first_unit


def _in(field: str, values: list[Any]) -> str:
    return f"{field} in {json.dumps(values, ensure_ascii=False)}"


@dataclass(frozen=True)
class _Revision:
    doc_id: str
    rev: int
    meta: DocumentMeta
    fingerprint: str
    raw_length: int
    chunk_count: int
    unit_count: int


class MilvusView:
    """One published generation of a Milvus library (implements ``IndexView``)."""

    def __init__(self, store: MilvusStore, generation: int, manifest: IndexManifest, catalog: dict[str, _Revision]):
        self.store = store
        self.generation = generation
        self.manifest = manifest
        self.catalog = catalog
        self._by_rev = {r.rev: r for r in catalog.values()}
        self._chunks: dict[int, tuple[Chunk, int]] = {}  # key -> (chunk, its first unit's position)
        self._chunks_lock = threading.Lock()
        options = store.index_options
        # Milvus scores BM25 itself; the average length only matters to the embedded store's scoring.
        self._lexical = LibraryLexical(
            manifest.chunk_count,
            1.0,
            options.bm25_bigrams,
            options.bm25_bilingual,
            store.document_frequencies,
        )

    # --- documents and chunks -----------------------------------------------------------

    @cached_property
    def documents(self) -> Mapping[str, IndexedDocument]:
        return {
            doc_id: IndexedDocument(r.meta, r.fingerprint, r.raw_length, r.chunk_count, self._loader(r))
            for doc_id, r in self.catalog.items()
        }

    def _loader(self, revision: _Revision) -> Callable[[], DocumentBody]:
        return lambda: self.store.body(revision.doc_id, revision.rev)

    @property
    def units(self) -> MilvusView:
        return self

    def __len__(self) -> int:
        return self.manifest.unit_count

    @property
    def lexical(self) -> LibraryLexical:
        return self._lexical

    def _fetch_chunks(self, keys: list[int]) -> None:
        missing = [k for k in keys if k not in self._chunks]
        for start in range(0, len(missing), _FILTER_KEYS):
            rows = self.store.client.get(
                self.store.names["chunks"], ids=missing[start : start + _FILTER_KEYS], output_fields=["chunk"]
            )
            with self._chunks_lock:
                for row in rows:
                    self._chunks[int(row["key"])] = _chunk_of(row["chunk"])

    def chunk(self, key: int) -> Chunk:
        self._fetch_chunks([key])
        return self._chunks[key][0]

    def sentence_units(self, chunk: int) -> np.ndarray:
        self._fetch_chunks([chunk])
        found, first_unit = self._chunks[chunk]
        rev = chunk >> _REV_BITS
        # Units are stored chunk by chunk: the context unit, then one per sentence.
        return np.array([(rev << _REV_BITS) | (first_unit + 1 + i) for i in range(len(found.sentences))], np.int64)

    def chunk_count(self, doc_id: str) -> int:
        return self.catalog[doc_id].chunk_count

    def chunk_keys(self, doc_id: str) -> np.ndarray:
        r = self.catalog[doc_id]
        return np.array([(r.rev << _REV_BITS) | i for i in range(r.chunk_count)], np.int64)

    def document_of(self, chunks: np.ndarray) -> list[str]:
        return [self._by_rev[int(k) >> _REV_BITS].doc_id for k in np.asarray(chunks).tolist()]

    @cached_property
    def _aliases(self) -> dict[str, frozenset[str]]:
        return {
            doc_id: frozenset(fold(a) for a in (*r.meta.aliases, r.meta.title) if a.strip()) for doc_id, r in self.catalog.items()
        }

    def aliases(self) -> dict[str, frozenset[str]]:
        return self._aliases

    def dates(self) -> dict[str, str]:
        return {doc_id: r.meta.date for doc_id, r in self.catalog.items() if r.meta.date}

    # --- search -------------------------------------------------------------------------

    def _filter(self, doc_ids: DocIds) -> str:
        expression = f"born <= {self.generation}"
        if doc_ids is not None:
            expression += " and " + _in("doc_id", sorted(doc_ids))
        return expression

    def _live(self, rev: int) -> bool:
        return rev in self._by_rev

    def _sparse(self, field: str, text: str, limit: int, expression: str) -> dict[int, float]:
        if not text.strip() or limit <= 0:
            return {}
        results = self.store.client.search(
            self.store.names["chunks"],
            data=[text],
            anns_field=field,
            limit=min(limit, 16384),
            filter=expression,
            output_fields=["rev"],
            search_params={"metric_type": "BM25"},
        )
        # Milvus Lite reports a BM25 score as a negative distance; a server as the score.
        return {int(h.id): abs(float(h["distance"])) for h in results[0] if self._live(int(h["entity"]["rev"]))}

    def _bm25(self, keywords: str, limit: int, expression: str) -> dict[int, float]:
        return self._sparse("sparse", token_text(self._lexical.tokens(keywords)), limit, expression)

    def search_lexical(self, keywords: str, limit: int, doc_ids: DocIds = None) -> Scored:
        scores = self._bm25(keywords, limit * _OVERFETCH, self._filter(doc_ids))
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return Scored(np.array([k for k, _ in best], np.int64), np.array([v for _, v in best], np.float32))

    def _exact(self, keywords: str, keys: list[int]) -> dict[int, float]:
        out: dict[int, float] = {}
        for start in range(0, len(keys), _FILTER_KEYS):
            part = keys[start : start + _FILTER_KEYS]
            out.update(self._bm25(keywords, len(part), f"{self._filter(None)} and {_in('key', part)}"))
        return out

    def lexical_scores(self, keywords: str, chunks: np.ndarray) -> np.ndarray:
        keys = [int(k) for k in np.asarray(chunks).tolist()]
        scores = self._exact(keywords, keys) if keys else {}
        return np.array([scores.get(k, 0.0) for k in keys], np.float32)

    def search_dense(self, vector: np.ndarray, limit: int, doc_ids: DocIds = None) -> DenseHits:
        results = self.store.client.search(
            self.store.names["units"],
            data=[np.asarray(vector, np.float32).tolist()],
            anns_field="vec",
            limit=min(limit * _OVERFETCH, 16384),
            filter=self._filter(doc_ids),
            output_fields=["chunk", "rev"],
            search_params={"metric_type": "IP"},
        )
        hits = [h for h in results[0] if self._live(int(h["entity"]["rev"]))][:limit]
        return DenseHits(
            np.array([int(h.id) for h in hits], np.int64),
            np.array([int(h["entity"]["chunk"]) for h in hits], np.int64),
            np.array([float(h["distance"]) for h in hits], np.float32),
        )

    def unit_vectors(self, units: np.ndarray) -> np.ndarray:
        keys = [int(k) for k in np.asarray(units).tolist()]
        found: dict[int, list[float]] = {}
        for start in range(0, len(keys), _FILTER_KEYS):
            rows = self.store.client.get(self.store.names["units"], ids=keys[start : start + _FILTER_KEYS], output_fields=["vec"])
            found.update({int(r["key"]): r["vec"] for r in rows})
        dimension = int(self.manifest.model.get("dimension", 0))
        return np.array([found[k] for k in keys], np.float32).reshape(len(keys), dimension)

    def known_vectors(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.store.known_vectors(hashes, int(self.manifest.model.get("dimension", 0)))

    def check(self) -> list[str]:
        try:
            published = self.store.current_id()
        except OSError as exc:
            return [f"Milvus unreachable: {exc}"]
        wrong = []
        if published is None:
            wrong.append("Milvus holds no published library")
        if len(self.catalog) != self.manifest.document_count:
            wrong.append(f"documents: {len(self.catalog)} loaded, manifest says {self.manifest.document_count}")
        chunks = sum(r.chunk_count for r in self.catalog.values())
        if chunks != self.manifest.chunk_count:
            wrong.append(f"chunks: {chunks} loaded, manifest says {self.manifest.chunk_count}")
        return wrong

    def close(self) -> None:
        """The client belongs to the store."""


class MilvusStore:
    """Writes and opens a library in Milvus (implements ``LibraryStore``)."""

    name: StoreName = "milvus"

    def __init__(self, lock_dir: Path, options: StoreOptions, index_options: IndexOptions):
        self.lock_dir = Path(lock_dir)
        self.options = options
        self.index_options = index_options
        self.uri = options.milvus_uri
        prefix = options.milvus_prefix
        self.names = {k: f"{prefix}_{k}" for k in ("chunks", "units", "documents", "texts", "terms", "dead", "state")}
        self._client: MilvusClient | None = None
        self._client_lock = threading.Lock()
        # The update in progress (under the lock): its generation and the next revision number to give.
        self._staging: int | None = None
        self._published_next_rev = 1
        self._next_rev = 1

    # --- connection and schema ---------------------------------------------------------

    @property
    def client(self) -> MilvusClient:
        with self._client_lock:
            if self._client is None:
                if self.uri.endswith(".db"):
                    Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
                try:
                    client = MilvusClient(uri=self.uri)
                    # A restarted Milvus (Lite always) has the collections released: searchable once loaded.
                    if client.has_collection(self.names["state"]):
                        for name in self.names.values():
                            client.load_collection(name)
                except MilvusException as exc:
                    raise OSError(f"cannot reach Milvus at {self.uri}: {exc}") from exc
                self._client = client
            return self._client

    @cached_property
    def is_lite(self) -> bool:
        return str(self.client.get_server_version()).startswith("milvus_lite")

    def _ensure_collections(self, dimension: int) -> None:
        if not self.client.has_collection(self.names["state"]):
            self._create_all(dimension)

    def _create_all(self, dimension: int) -> None:
        client = self.client
        # Milvus Lite has no whitespace tokenizer; its standard one (\\w+) splits silkqa's tokens
        # (joined by spaces, punctuation inside them made "_") the same way.
        analyzer = {"tokenizer": "standard"} if self.is_lite else {"tokenizer": "whitespace"}

        def common(schema: Any, key_type: DataType = DataType.INT64) -> None:
            if key_type == DataType.INT64:
                schema.add_field("key", DataType.INT64, is_primary=True)
            else:
                schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=512)

        def create(name: str, schema: Any, vector_indexes: list[tuple[str, str, str]], scalars: tuple[str, ...]) -> None:
            index = client.prepare_index_params()
            for field, kind, metric in vector_indexes:
                # BM25 with silkqa's k1 and b (Lucene's; Milvus Lite would default k1 to 1.5). Milvus
                # reads them as keys; Milvus Lite only from the JSON "params" key (the older wire form).
                bm25 = {"bm25_k1": K1, "bm25_b": B}
                params: dict[str, Any] = {**bm25, "params": bm25} if metric == "BM25" else {}
                index.add_index(field_name=field, index_type=kind, metric_type=metric, params=params)
            for field in scalars:
                index.add_index(field_name=field, index_type="INVERTED")
            client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")

        def placeholder(schema: Any) -> list[tuple[str, str, str]]:
            schema.add_field("nil", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in every collection
            return [("nil", "FLAT", "L2")]

        s = client.create_schema(auto_id=False)
        common(s)
        s.add_field("doc_id", DataType.VARCHAR, max_length=100)
        s.add_field("rev", DataType.INT64)
        s.add_field("born", DataType.INT64)
        s.add_field("tokens", DataType.VARCHAR, max_length=_MAX_VARCHAR, enable_analyzer=True, analyzer_params=analyzer)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("chunk", DataType.VARCHAR, max_length=_MAX_VARCHAR)
        s.add_function(
            Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"], output_field_names=["sparse"])
        )
        create(self.names["chunks"], s, [("sparse", "SPARSE_INVERTED_INDEX", "BM25")], ("doc_id", "rev", "born"))

        s = client.create_schema(auto_id=False)
        common(s)
        for field in ("chunk", "rev", "born"):
            s.add_field(field, DataType.INT64)
        s.add_field("doc_id", DataType.VARCHAR, max_length=100)
        s.add_field("hash", DataType.VARCHAR, max_length=32)
        s.add_field("vec", DataType.FLOAT_VECTOR, dim=dimension)
        create(self.names["units"], s, [("vec", "FLAT" if self.is_lite else "HNSW", "IP")], ("doc_id", "rev", "born", "hash"))

        s = client.create_schema(auto_id=False)
        common(s, DataType.VARCHAR)
        for field in ("rev", "born", "raw_length", "chunk_count", "unit_count"):
            s.add_field(field, DataType.INT64)
        s.add_field("doc_id", DataType.VARCHAR, max_length=100)
        s.add_field("meta", DataType.VARCHAR, max_length=_MAX_VARCHAR)
        s.add_field("fingerprint", DataType.VARCHAR, max_length=64)
        create(self.names["documents"], s, placeholder(s), ("doc_id", "rev", "born"))

        s = client.create_schema(auto_id=False)
        common(s, DataType.VARCHAR)
        s.add_field("rev", DataType.INT64)
        s.add_field("piece", DataType.VARCHAR, max_length=_MAX_VARCHAR)
        create(self.names["texts"], s, placeholder(s), ("rev",))

        for name, fields in (("terms", ("df",)), ("dead", ("rev", "died", "died_at")), ("state", ("generation", "next_rev"))):
            s = client.create_schema(auto_id=False)
            common(s, DataType.VARCHAR)
            for field in fields:
                s.add_field(field, DataType.INT64)
            if name == "state":
                s.add_field("manifest", DataType.VARCHAR, max_length=_MAX_VARCHAR)
            create(self.names[name], s, placeholder(s), ())

    # --- the published state ------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Writers, across processes sharing the data directory (and so the replicas of one host)."""
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_dir / ".milvus-lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _state(self) -> tuple[int, dict[str, Any]] | None:
        try:
            if not self.client.has_collection(self.names["state"]):
                return None
            rows = self.client.get(self.names["state"], ids=["state"], output_fields=["generation", "manifest", "next_rev"])
        except MilvusException as exc:
            raise OSError(f"cannot read the library state from Milvus: {exc}") from exc
        if not rows:
            return None
        try:
            self._published_next_rev = int(rows[0]["next_rev"])
            return int(rows[0]["generation"]), json.loads(rows[0]["manifest"])
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"the library state in Milvus is unreadable: {exc}") from exc

    def current_id(self) -> str | None:
        state = self._state()
        return None if state is None else str(IndexManifest.from_json(state[1]).build_id)

    def exists(self) -> bool:
        return self._state() is not None

    def read_manifest(self) -> IndexManifest:
        state = self._state()
        if state is None:
            raise IndexMissing(f"no library in Milvus at {self.uri} (collections {self.names['state']}…)")
        try:
            return IndexManifest.from_json(state[1])
        except (KeyError, TypeError) as exc:
            raise IndexCorrupt(f"the library manifest in Milvus is unreadable: {exc}") from exc

    def _catalog(self, generation: int) -> dict[str, _Revision]:
        dead = {int(r["rev"]) for r in self._query(self.names["dead"], f"died <= {generation}", ["rev"])}
        catalog: dict[str, _Revision] = {}
        rows = self._query(
            self.names["documents"],
            f"born <= {generation}",
            ["doc_id", "rev", "meta", "fingerprint", "raw_length", "chunk_count", "unit_count"],
        )
        for r in rows:
            rev = int(r["rev"])
            if rev in dead or (r["doc_id"] in catalog and catalog[r["doc_id"]].rev > rev):
                continue  # dead, or replaced by a newer revision not yet published as dead
            catalog[r["doc_id"]] = _Revision(
                r["doc_id"],
                int(r["rev"]),
                DocumentMeta.from_json(json.loads(r["meta"])),
                r["fingerprint"],
                int(r["raw_length"]),
                int(r["chunk_count"]),
                int(r["unit_count"]),
            )
        return catalog

    def _query(self, collection: str, expression: str, fields: list[str]) -> list[dict[str, Any]]:
        iterator = self.client.query_iterator(collection, batch_size=1000, filter=expression, output_fields=fields)
        rows: list[dict[str, Any]] = []
        try:
            while batch := iterator.next():
                rows.extend(batch)
        finally:
            iterator.close()
        return rows

    def open(self) -> MilvusView:
        state = self._state()
        if state is None:
            raise IndexMissing(f"no library in Milvus at {self.uri}")
        generation, manifest_json = state
        manifest = IndexManifest.from_json(manifest_json)
        return MilvusView(self, generation, manifest, self._catalog(generation))

    def read_sources(self) -> Iterator[SourceDocument]:
        state = self._state()
        if state is None:
            raise IndexMissing(f"no library in Milvus at {self.uri}")
        for r in self._catalog(state[0]).values():
            yield SourceDocument(r.meta, self.body(r.doc_id, r.rev).raw)

    def body(self, doc_id: str, rev: int) -> DocumentBody:
        rows = self._query(self.names["texts"], f"rev == {rev}", ["key", "piece"])
        parts: dict[str, list[tuple[int, str]]] = {}
        for r in rows:
            _, field, number = r["key"].rsplit(":", 2)
            parts.setdefault(field, []).append((int(number), r["piece"]))
        text, offsets, raw = ("".join(p for _, p in sorted(parts.get(f, []))) for f in ("text", "offsets", "raw"))
        if not offsets:
            raise KeyError(doc_id)
        return DocumentBody(text, OffsetMap.from_json(json.loads(offsets), len(text)), raw)

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(terms), _FILTER_KEYS):
            # Not client.get(ids=...): it quotes string ids with ' unescaped, so a term
            # such as "region's" broke the filter. _in quotes them as JSON, which Milvus parses.
            part = terms[start : start + _FILTER_KEYS]
            rows = self.client.query(self.names["terms"], filter=_in("key", part), output_fields=["df"])
            found.update({r["key"]: int(r["df"]) for r in rows if int(r["df"]) > 0})
        return found

    def known_vectors(self, hashes: np.ndarray, dimension: int) -> tuple[np.ndarray, np.ndarray]:
        wanted = [bytes(h).hex() for h in hashes]
        vectors: dict[str, list[float]] = {}
        for start in range(0, len(wanted), _FILTER_KEYS):
            part = sorted(set(wanted[start : start + _FILTER_KEYS]))
            for r in self.client.query(self.names["units"], filter=_in("hash", part), output_fields=["hash", "vec"]):
                vectors.setdefault(r["hash"], r["vec"])
        found = np.array([h in vectors for h in wanted], bool)
        out = np.zeros((len(wanted), dimension), np.float32)
        for i, h in enumerate(wanted):
            if h in vectors:
                out[i] = vectors[h]
        return found, out

    def reusable(self, model: ModelIdentity) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
        try:
            manifest = self.read_manifest()
        except (IndexMissing, IndexCorrupt, OSError):
            return None
        if manifest.model != model.to_json():
            return None
        return lambda hashes: self.known_vectors(hashes, model.dimension)

    # --- writing -----------------------------------------------------------------------

    def _next_generation(self) -> int:
        state = self._state()
        return 1 if state is None else state[0] + 1

    def stage(self, added: list[PreparedDocument]) -> Staged:
        """Rows of ``added`` with the next generation as their birth: invisible
        until ``commit`` publishes it. The first stage of an update sweeps the
        rows a crashed one left; revisions are numbered on from the published
        state's counter (the rows of a crashed update gave theirs back)."""
        dimension = added[0].vectors.shape[1] if added else 0
        self._ensure_collections(dimension)
        generation = self._next_generation()
        if self._staging != generation:
            self._sweep_unpublished(generation - 1)
            self._staging = generation
            self._next_rev = self._published_next_rev
        first = self._next_rev
        self._next_rev += len(added)
        for offset, doc in enumerate(added):
            self._insert_document(doc, first + offset, generation)
        return Staged(
            f"g{generation}:{first}",
            frozenset(d.doc_id for d in added),
            len(added),
            sum(len(d.chunks) for d in added),
            sum(len(d.units) for d in added),
        )

    def _insert_document(self, doc: PreparedDocument, rev: int, born: int) -> None:
        client = self.client
        meta = doc.document.meta
        base = {"doc_id": doc.doc_id, "rev": rev, "born": born}
        chunk_rows = []
        unit_counts = np.bincount(doc.units.chunk, minlength=len(doc.chunks))
        first_units = np.concatenate([[0], np.cumsum(unit_counts)[:-1]]).astype(int)
        for i, (chunk, tokens) in enumerate(zip(doc.chunks, doc.lexical, strict=True)):
            data = {
                "chunk_id": chunk.chunk_id,
                "doc_id": chunk.doc_id,
                "ordinal": chunk.ordinal,
                "section": list(chunk.section),
                "start": chunk.start,
                "end": chunk.end,
                "text": chunk.text,
                "context": chunk.context,
                "sentences": [list(s) for s in chunk.sentences],
                "first_unit": int(first_units[i]),
            }
            chunk_rows.append(
                {
                    **base,
                    "key": (rev << _REV_BITS) | i,
                    "tokens": token_text(tokens)[: _MAX_VARCHAR // 4],
                    "chunk": json.dumps(data, ensure_ascii=False),
                }
            )
        unit_rows = [
            {
                **base,
                "key": (rev << _REV_BITS) | j,
                "chunk": (rev << _REV_BITS) | int(doc.units.chunk[j]),
                "hash": bytes(doc.units.text_hash[j]).hex(),
                "vec": doc.vectors[j].tolist(),
            }
            for j in range(len(doc.units))
        ]
        for name, rows in (("chunks", chunk_rows), ("units", unit_rows)):
            for start in range(0, len(rows), _BATCH):
                client.insert(self.names[name], rows[start : start + _BATCH])
        body = doc.body
        pieces = []
        for field, value in (("text", body.text), ("offsets", json.dumps(body.offsets.to_json())), ("raw", body.raw)):
            for n, start in enumerate(range(0, max(len(value), 1), _TEXT_PIECE)):
                pieces.append(
                    {
                        "key": f"{doc.doc_id}@{rev}:{field}:{n}",
                        "rev": rev,
                        "piece": value[start : start + _TEXT_PIECE],
                        "nil": [0.0, 0.0],
                    }
                )
        for start in range(0, len(pieces), _BATCH):
            client.insert(self.names["texts"], pieces[start : start + _BATCH])
        client.insert(
            self.names["documents"],
            [
                {
                    **base,
                    "key": f"{doc.doc_id}@{rev}",
                    "meta": json.dumps(meta.to_json(), ensure_ascii=False),
                    "fingerprint": doc.document.fingerprint,
                    "raw_length": len(body.raw),
                    "chunk_count": len(doc.chunks),
                    "unit_count": len(doc.units),
                    "nil": [0.0, 0.0],
                }
            ],
        )
        self._add_terms(Counter(t for tokens in doc.lexical for t in set(tokens)), +1)

    def _add_terms(self, counts: Counter[str], sign: int) -> None:
        terms = [t for t in counts if len(t.encode()) <= 500]
        current = self.document_frequencies(terms)
        rows = [{"key": t, "df": max(0, current.get(t, 0) + sign * counts[t]), "nil": [0.0, 0.0]} for t in terms]
        for start in range(0, len(rows), _BATCH):
            self.client.upsert(self.names["terms"], rows[start : start + _BATCH])

    def _sweep_unpublished(self, published: int) -> None:
        """Rows a crashed update staged after generation ``published``: never visible, now gone."""
        for name in ("chunks", "units", "documents"):
            self.client.delete(self.names[name], filter=f"born > {published}")

    def commit(self, base: IndexView | None, staged: list[Staged], removed: set[str], manifest: IndexManifest) -> MilvusView:
        assert base is None or isinstance(base, MilvusView), "a view of this store"
        generation = self._next_generation()
        state = self._state()
        published = self._catalog(state[0]) if state is not None else {}
        revisions = self._catalog(generation)  # the published documents plus the staged ones
        replaced = set().union(*(s.doc_ids for s in staged)) if staged else set()
        ending = [r for doc_id, r in published.items() if base is None or doc_id in removed or doc_id in replaced]
        now = int(time.time())
        if ending:
            self.client.insert(
                self.names["dead"],
                [
                    {"key": f"{r.doc_id}@{r.rev}", "rev": r.rev, "died": generation, "died_at": now, "nil": [0.0, 0.0]}
                    for r in ending
                ],
            )
            for r in ending:
                self._forget_terms(r)
        live = {doc_id: r for doc_id, r in revisions.items() if r not in ending and doc_id not in removed}
        manifest = replace(
            manifest,
            build_id=f"milvus-{generation}",
            document_count=len(live),
            chunk_count=sum(r.chunk_count for r in live.values()),
            unit_count=sum(r.unit_count for r in live.values()),
            store=self.name,
        )
        self.client.upsert(
            self.names["state"],
            [
                {
                    "key": "state",
                    "generation": generation,
                    "next_rev": self._next_rev if self._staging == generation else self._published_next_rev,
                    "manifest": json.dumps(manifest.to_json(), ensure_ascii=False),
                    "nil": [0.0, 0.0],
                }
            ],
        )
        self._staging = None
        self._collect_garbage(now)
        if self.is_lite:
            # Milvus Lite scores BM25 with per-segment statistics, and rows still in its memory table
            # form a segment of their own: seal them now, so a library built in one go is scored as
            # one (Lite's compaction then merges the small segments updates add).
            self.client.flush(self.names["chunks"])
        return MilvusView(self, generation, manifest, live)

    def _forget_terms(self, revision: _Revision) -> None:
        """Take an ending revision's chunks out of the document frequencies
        (its tokens again from its stored chunks: the same text it was indexed by)."""
        counts: Counter[str] = Counter()
        for r in self._query(self.names["chunks"], f"rev == {revision.rev}", ["chunk"]):
            chunk, _ = _chunk_of(r["chunk"])
            text = lexical_text(revision.meta, chunk, self.index_options.bm25_include_titles)
            counts.update(set(index_tokens(text, self.index_options.bm25_bigrams) or ["\x00"]))
        self._add_terms(counts, -1)

    def _collect_garbage(self, now: int) -> None:
        """Delete revisions that died long enough ago that no request still reads them."""
        old = self.client.query(
            self.names["dead"], filter=f"died_at < {now - _RETAIN_SECONDS}", output_fields=["rev"], limit=1000
        )
        revs = sorted({int(r["rev"]) for r in old})
        if not revs:
            return
        for name in ("chunks", "units", "documents", "texts"):
            self.client.delete(self.names[name], filter=_in("rev", revs))
        self.client.delete(self.names["dead"], filter=_in("rev", revs))

    def maintain(self) -> bool:
        """Milvus compacts its own segments."""
        return False
