"""Keyword side of retrieval: jieba word segmentation feeding BM25 (bm25s).

The same ``tokenize`` runs on indexed text and on queries, so the two always
agree. Text is NFKC-folded and lower-cased for matching only; what is shown
and cited is never touched."""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path

import bm25s
import jieba
import numpy as np

from silkqa.index.language import HAN_RANGE, HAN_RUN, STOPWORDS, fold
from silkqa.index.store.bilingual import build_lexicon, expand

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


class LexicalIndex:
    """BM25 over passages, tokenised the same way as the queries scored against it."""

    def __init__(self, retriever: bm25s.BM25, size: int, bigrams: bool, lexicon: dict[str, tuple[str, ...]]):
        self._bm25 = retriever
        self.size = size
        self.bigrams = bigrams
        self.lexicon = lexicon  # English -> Chinese terms of this corpus (index.bilingual); {} when off

    def tokens(self, text: str) -> list[str]:
        return tokenize(text) + (han_bigrams(text) if self.bigrams else [])

    def translations(self, query: str) -> list[str]:
        """Chinese corpus terms for the English words of ``query``."""
        return expand(query, self.lexicon) if self.lexicon else []

    @classmethod
    def build(cls, passages: list[str], bigrams: bool = True, bilingual: bool = True) -> LexicalIndex:
        lexicon = build_lexicon(fold("\n".join(passages))) if bilingual else {}
        index = cls(bm25s.BM25(k1=1.2, b=0.75), len(passages), bigrams, lexicon)
        # bm25s cannot index an empty token list; a placeholder keeps ids aligned.
        index._bm25.index([index.tokens(p) or ["\x00"] for p in passages], show_progress=False)
        return index

    def keywords(self, query: str) -> str:
        """``query`` with the Chinese translations of its English words appended:
        the text a query is matched by (``scores``) and covered by."""
        return " ".join([query, *self.translations(query)])

    def scores(self, keywords: str) -> np.ndarray:
        """BM25 score of every passage for a query's ``keywords`` (see ``keywords``)."""
        tokens = self.tokens(keywords)
        if not tokens or self.size == 0:
            return np.zeros(self.size, np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def idf(self, token: str) -> float:
        """Inverse document frequency of ``token`` (0 when unseen)."""
        vocab = self._bm25.vocab_dict
        if token not in vocab:
            return 0.0
        # bm25s stores the term's column; its non-zeros are the passages containing it.
        matrix = self._bm25.scores
        tid = vocab[token]
        df = int(matrix["indptr"][tid + 1] - matrix["indptr"][tid])
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    @property
    def max_idf(self) -> float:
        """IDF of a word found in a single passage: the rarest a known word gets."""
        return float(np.log(1 + (self.size - 1 + 0.5) / 1.5)) if self.size else 1.0

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory))
        config = {"bigrams": self.bigrams, "lexicon": self.lexicon}
        (Path(directory) / "tokenizer.json").write_text(json.dumps(config, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        config = json.loads((Path(directory) / "tokenizer.json").read_text())
        lexicon = {k: tuple(v) for k, v in config["lexicon"].items()}
        return cls(bm25s.BM25.load(str(directory)), size, bool(config["bigrams"]), lexicon)
