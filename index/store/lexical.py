"""Keyword side of retrieval: jieba word segmentation and Chinese character
bigrams feeding BM25.

The same ``tokenize`` runs on indexed text and on queries, so the two always
agree. Text is NFKC-folded and lower-cased for matching only; what is shown
and cited is never touched.

BM25 is scored here from postings rather than by a BM25 library, because a
library is many immutable segments plus tombstones: a term's weight must use
the document frequency and average length of the whole live library, which
no per-segment precomputed score matrix can know (bm25s bakes them in). The
formula is Lucene's, as bm25s computes it, so scores are unchanged."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import jieba
import numpy as np

from silkqa.index.ingest.structure import format_path
from silkqa.index.ingest.types import Chunk, DocumentMeta
from silkqa.index.language import HAN_RANGE, HAN_RUN, STOPWORDS, fold
from silkqa.index.store.bilingual import translate

jieba.setLogLevel(logging.WARNING)

# Terms jieba's general dictionary splits but users search as one word.
DOMAIN_WORDS = (
    "一带一路",
    "绿色丝绸之路",
    "丝绸之路经济带",
    "海上丝绸之路",
    "生态环保",
    "生态文明",
    "南南合作",
    "碳达峰",
    "碳中和",
    "煤电",
    "绿色金融",
    "绿色债券",
    "绿色基建",
    "五通",
    "智库",
    "专栏",
    "新能源",
    "清洁能源",
    "可再生能源",
    "大数据",
    "环境影响评价",
    "赤道原则",
    "蒙内铁路",
    "中老铁路",
)

_TOKEN_OK = re.compile(rf"[\w{HAN_RANGE}]")


@lru_cache(maxsize=1)
def segmenter() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word, freq=20000)
    return tokenizer


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens (words and their sub-words), minus stopwords
    and punctuation."""
    tokens = []
    for token in segmenter().cut_for_search(fold(text)):
        token = token.strip()
        if token and token not in STOPWORDS and _TOKEN_OK.search(token):
            tokens.append(token)
    return tokens


def han_bigrams(text: str) -> list[str]:
    """Overlapping character pairs of every run of Chinese characters. They
    match what word segmentation splits differently in question and passage
    (电动车船 / 新能源和清洁能源车船)."""
    return [run[i : i + 2] for run in HAN_RUN.findall(fold(text)) for i in range(len(run) - 1)]


def lexical_text(meta: DocumentMeta, chunk: Chunk, include_titles: bool) -> str:
    """The text BM25 indexes for a chunk: its context and text, and with
    ``include_titles`` its document's title, number, aliases and section path."""
    parts = [chunk.context, chunk.text]
    if include_titles:
        parts = [meta.title, meta.doc_number or "", " ".join(meta.aliases), format_path(chunk.section)] + parts
    return "\n".join(p for p in parts if p)


def index_tokens(text: str, bigrams: bool) -> list[str]:
    """What BM25 indexes and queries with: words, plus bigrams when enabled."""
    return tokenize(text) + (han_bigrams(text) if bigrams else [])


# Lucene's BM25 (as bm25s computes it).
K1 = 1.2
B = 0.75


def idf(df: np.ndarray | float, n: int) -> np.ndarray | float:
    return np.log(1 + (n - df + 0.5) / (df + 0.5))


def term_weights(tf: np.ndarray, lengths: np.ndarray, avg_length: float) -> np.ndarray:
    """BM25's term-frequency part for postings with these ``tf`` and chunk ``lengths``."""
    tf = tf.astype(np.float32)
    weights: np.ndarray = tf / (K1 * ((1 - B) + B * lengths.astype(np.float32) / np.float32(avg_length)) + tf)
    return weights


@dataclass
class Postings:
    """An inverted index over some chunks (one segment's): for each term, the
    chunks containing it in increasing order, with the term's count there."""

    terms: list[str]  # sorted
    indptr: np.ndarray  # int64, len(terms) + 1: term i's postings are [indptr[i], indptr[i + 1])
    docs: np.ndarray  # int32 chunk rows
    tf: np.ndarray  # uint16 counts (clipped)
    lengths: np.ndarray  # int32 tokens per chunk

    @property
    def df(self) -> np.ndarray:
        return np.diff(self.indptr).astype(np.int64)

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> Postings:
        vocabulary: dict[str, int] = {}
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        lengths = np.zeros(len(token_lists), np.int32)
        for row, tokens in enumerate(token_lists):
            lengths[row] = len(tokens)
            counted = Counter(tokens)
            ids = [vocabulary.setdefault(t, len(vocabulary)) for t in counted]
            rows.append(np.full(len(ids), row, np.int32))
            cols.append(np.asarray(ids, np.int64))
            counts.append(np.fromiter(counted.values(), np.int64, len(counted)))
        return cls.from_triples(vocabulary, _cat(rows, np.int32), _cat(cols, np.int64), _cat(counts, np.int64), lengths)

    @classmethod
    def from_triples(
        cls, vocabulary: dict[str, int], rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, lengths: np.ndarray
    ) -> Postings:
        """From (chunk row, term id, count) triples over ``vocabulary`` (term -> id)."""
        terms = sorted(vocabulary)
        rank = np.empty(len(vocabulary), np.int64)
        rank[[vocabulary[t] for t in terms]] = np.arange(len(terms))
        term_rank = rank[cols] if len(cols) else cols
        order = np.lexsort((rows, term_rank))
        indptr = np.zeros(len(terms) + 1, np.int64)
        np.cumsum(np.bincount(term_rank, minlength=len(terms)), out=indptr[1:])
        tf = np.minimum(counts[order], np.iinfo(np.uint16).max).astype(np.uint16)
        return cls(terms, indptr, rows[order].astype(np.int32), tf, lengths.astype(np.int32))


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


class LibraryLexical:
    """BM25's view of a whole library (implements ``LexicalStats``): the
    tokenizer, and document frequencies from wherever the store keeps them
    (``document_frequencies``: term -> chunks of the live library holding it)."""

    def __init__(
        self,
        size: int,
        avg_length: float,
        bigrams: bool,
        bilingual: bool,
        document_frequencies: Callable[[list[str]], dict[str, int]],
    ):
        self.size = size
        self.avg_length = avg_length or 1.0
        self.bigrams = bigrams
        self.bilingual = bilingual
        self._frequencies = document_frequencies
        self._df: dict[str, int] = {}

    def tokens(self, text: str) -> list[str]:
        return index_tokens(text, self.bigrams)

    def df(self, terms: list[str]) -> dict[str, int]:
        """Document frequency of each term (cached: a view never changes)."""
        missing = [t for t in set(terms) if t not in self._df]
        if missing:
            self._df.update({t: 0 for t in missing} | self._frequencies(missing))
        return {t: self._df[t] for t in terms}

    def translations(self, query: str) -> list[str]:
        """Chinese terms of this library for the English words of ``query``."""
        if not self.bilingual:
            return []
        candidates = translate(query)
        present = self.df([*candidates, *(g for c in candidates for g in han_bigrams(c))])
        return [c for c in candidates if _occurs(c, present)]

    def keywords(self, query: str) -> str:
        """``query`` with the Chinese translations of its English words appended:
        the text a query is matched by and covered by."""
        return " ".join([query, *self.translations(query)])

    def idf(self, token: str) -> float:
        """Inverse document frequency of ``token`` (0 when unseen)."""
        df = self.df([token])[token]
        return float(idf(df, self.size)) if df else 0.0

    @property
    def max_idf(self) -> float:
        """IDF of a word found in a single passage: the rarest a known word gets."""
        return float(idf(1, self.size)) if self.size else 1.0

    def weights(self, tokens: list[str]) -> dict[str, float]:
        """IDF of each query token that occurs, times how often the query has it."""
        frequencies = self.df(tokens)
        counts = Counter(t for t in tokens if frequencies[t])
        return {t: n * math.log(1 + (self.size - frequencies[t] + 0.5) / (frequencies[t] + 0.5)) for t, n in counts.items()}


def _occurs(term: str, df: dict[str, int]) -> bool:
    """Whether ``term`` occurs in the library as far as its vocabulary tells:
    as a word, or (a longer word jieba cuts into pieces, 温室气体) as all its
    bigrams. The second may admit a word that is only its pieces (提出建议),
    whose pieces then count a little; on the dev set that admits 3 words the
    text never has, and drops none it has."""
    if df.get(term, 0):
        return True
    grams = han_bigrams(term)
    return len(term) > 2 and bool(grams) and all(df.get(g, 0) for g in grams)
