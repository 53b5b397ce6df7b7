"""Dense side of the embedded store: one segment's vectors and their index.

Vectors are kept as float16 in a flat file next to the index (half the bytes
of float32, and far below USE's own precision: cosines change by < 1e-3). They
are read with ``pread`` (``VectorFile``), never memory-mapped, so the vectors a
request reads for its candidate sentences sit in the page cache, not in the
server's resident memory.

A segment up to ``exact_max_units`` units is searched exactly (a FAISS flat
index over float16 codes). A larger one gets an inverted-file index with 8-bit
scalar-quantised codes (a quarter of float32's memory), whose similarities
are within about 1e-3 of the exact ones; recall@10 against exact search is
measured in bench/SCALE.md. (Re-scoring its 400 candidates from the float16
file cost 20 ms a segment in reads; the sentences an answer compares are read
exactly, ``IndexView.unit_vectors``.)"""

from __future__ import annotations

import math
import os
from pathlib import Path

import faiss
import numpy as np

from silkqa.index.store.types import DenseHits

# Inverted lists of an approximate index: about 4·sqrt(n), FAISS' usual
# starting point, capped so training stays minutes at millions of units.
_MAX_LISTS = 4096
# Training points per inverted list (FAISS warns below 39), and k-means
# rounds: an update's segment is trained in seconds, not minutes.
_TRAIN_PER_LIST = 40
_TRAIN_ROUNDS = 10
_ADD_BATCH = 65536
# Candidates an approximate search re-scores per result asked for (``search``).
_RESCORE_FACTOR = 2


def single_threaded_search() -> None:
    """A query is one vector: FAISS' OpenMP threads only add overhead there
    (2.5 ms instead of 0.1 ms for 1,500 units on two busy cores), and the
    server already runs requests side by side."""
    faiss.omp_set_num_threads(1)


def build_index(vectors: np.ndarray, exact_max_units: int) -> faiss.Index:
    """The index of one segment's (normalised) vectors: inner product = cosine.
    Training and adding use every core; searching stays single-threaded."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        return _build(vectors, exact_max_units)
    finally:
        single_threaded_search()


def _build(vectors: np.ndarray, exact_max_units: int) -> faiss.Index:
    n, dimension = vectors.shape
    index: faiss.Index
    if n <= exact_max_units:
        index = faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    else:
        lists = min(_MAX_LISTS, max(16, int(4 * math.sqrt(n))))
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        index.cp.niter = _TRAIN_ROUNDS
        rng = np.random.default_rng(0)  # the same vectors always give the same index
        sample = np.sort(rng.choice(n, size=min(n, lists * _TRAIN_PER_LIST), replace=False))
        index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    for start in range(0, n, _ADD_BATCH):
        index.add(np.ascontiguousarray(vectors[start : start + _ADD_BATCH], dtype=np.float32))
    return index


def is_approximate(index: faiss.Index) -> bool:
    return isinstance(index, faiss.IndexIVF)


class VectorFile:
    """Float16 rows of a flat file, read by ``pread``."""

    def __init__(self, path: Path, dimension: int, rows: int):
        self.dimension = dimension
        self.rows = rows
        self._row_bytes = 2 * dimension
        self.fd = os.open(path, os.O_RDONLY)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """Float32 vectors of ``rows`` (in the order given)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.dimension), np.float32)
        if not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        # Consecutive rows are read with one call.
        bounds = [0, *(np.flatnonzero(np.diff(sorted_rows) != 1) + 1).tolist(), len(rows)]
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            first, count = int(sorted_rows[lo]), hi - lo
            data = os.pread(self.fd, count * self._row_bytes, first * self._row_bytes)
            out[order[lo:hi]] = np.frombuffer(data, np.float16).reshape(count, self.dimension)
        return out

    def read_range(self, start: int, stop: int) -> np.ndarray:
        data = os.pread(self.fd, (stop - start) * self._row_bytes, start * self._row_bytes)
        return np.frombuffer(data, np.float16).reshape(stop - start, self.dimension)


def search(
    index: faiss.Index,
    vectors: VectorFile,
    query: np.ndarray,
    limit: int,
    nprobe: int,
    allowed: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(unit rows, cosine) of the ``limit`` nearest units, best first;
    ``allowed`` (a packed little-endian bitmap of rows) restricts them.
    An approximate index's 8-bit scores only choose candidates (twice as many
    as asked for): their cosines are computed again from the float16 vectors,
    so that ranking and the answer thresholds see the same scores as an exact
    index would (and recall@10 against exact search rises)."""
    if index.ntotal == 0 or limit <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    approximate = is_approximate(index)
    fetch = min(index.ntotal, _RESCORE_FACTOR * limit if approximate else limit)
    selector = faiss.IDSelectorBitmap(index.ntotal, faiss.swig_ptr(allowed)) if allowed is not None else None
    # FAISS' parameter objects take their fields as attributes.
    params: faiss.SearchParameters
    if approximate:
        params = ivf = faiss.SearchParametersIVF()
        ivf.nprobe = nprobe
    else:
        params = faiss.SearchParameters()
    if selector is not None:
        params.sel = selector
    sims, ids = index.search(query.reshape(1, -1).astype(np.float32), fetch, params=params)
    valid = ids[0] >= 0
    rows, scores = ids[0][valid], sims[0][valid].astype(np.float32)
    if approximate:
        scores = vectors.read(rows) @ query.astype(np.float32)
        order = np.argsort(-scores, kind="stable")[:limit]
        rows, scores = rows[order], scores[order]
    return rows, scores


def brute_force(vectors: VectorFile, rows: np.ndarray, query: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact search over just ``rows`` (a filtered search over few units)."""
    if not len(rows):
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    sims = vectors.read(rows) @ query
    order = np.argsort(-sims, kind="stable")[:limit]
    return rows[order], sims[order].astype(np.float32)


def merge_hits(parts: list[DenseHits], limit: int) -> DenseHits:
    """The best ``limit`` of several segments' hits."""
    parts = [p for p in parts if len(p.units)]
    if not parts:
        return DenseHits.empty()
    units = np.concatenate([p.units for p in parts])
    chunks = np.concatenate([p.chunks for p in parts])
    sims = np.concatenate([p.similarities for p in parts])
    order = np.argsort(-sims, kind="stable")[:limit]
    return DenseHits(units[order], chunks[order], sims[order])
