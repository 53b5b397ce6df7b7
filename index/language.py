"""The language rules every stage shares, written once: which characters are
Chinese, whether a text is Chinese or English, how text is folded for
matching, the words that carry no meaning for search, and the syntax of a
citation marker ``[n]``.

This module sits at the bottom of the import graph: cleaning, BM25, retrieval,
follow-up rewriting and the verifier all read these rules from here."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Lang = Literal["zh", "en"]

# CJK Unified Ideographs with extension A: every Chinese character the corpus uses.
HAN_RANGE = "\u3400-\u9fff"
HAN = re.compile(f"[{HAN_RANGE}]")
HAN_RUN = re.compile(f"[{HAN_RANGE}]{{2,}}")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_TITLE = re.compile(r"《[^》]*》")


def fold(text: str) -> str:
    """NFKC and lower case: the form text is matched in. What is shown and
    cited is never folded."""
    return unicodedata.normalize("NFKC", text).lower()


def compact(text: str) -> str:
    """Folded and without whitespace: the form a phrase is looked for in
    evidence (the cleaned text keeps the spaces of "2030 年")."""
    return re.sub(r"\s+", "", fold(text))


def language_of(text: str) -> Lang:
    """'zh' when Chinese characters carry the text (at least two, and no fewer
    than its Latin words), else 'en'."""
    han = len(HAN.findall(text))
    return "zh" if han >= 2 and han >= len(_LATIN_WORD.findall(text)) else "en"


def strip_titles(text: str) -> str:
    """``text`` without its 《titles》: an English question naming a Chinese
    document by its title is still an English question."""
    return _TITLE.sub("", text)


def question_language(text: str) -> Lang:
    """The language a question is asked in: that of its words outside any
    《title》 it names ("What does 《…意见》 say about coal?" is English), or of
    the whole text when it is nothing but a title."""
    rest = strip_titles(text)
    return language_of(rest) if re.search(rf"[A-Za-z{HAN_RANGE}]", rest) else language_of(text)


# Function words and question words that say nothing about which passage
# answers: dropped from BM25 tokens, coverage and English phrase look-ups.
CHINESE_STOPWORDS = frozenset(
    """的 了 和 与 及 或 在 是 为 对 于 以 将 把 被 由 从 向 中 上 下 等 有 也 都 就 而 并 其 之 这 那 该 此
    哪些 哪个 哪 谁 哪位 什么 怎么 怎样 如何 多少 几 吗 呢 啊 吧 么 请问 请 一下 是否 有没有 为什么 为何 哪里 哪年 何时
    方面 提到 提出 要求 关于 里 中国 我国 一些 我们 你 他们 它 它们 文件 文档 里面 其中 主要 具体 一共 总共""".split()
)
ENGLISH_STOPWORDS = frozenset(
    """a an the of to in on for and or is are was were be been by with as at from that this these those what which
    who whom how many much does do did it its their there when where why according document documents
    one ones has have had will would can could should about into like tell please give know want also any some
    such other""".split()
)
STOPWORDS = CHINESE_STOPWORDS | ENGLISH_STOPWORDS

# A citation marker: [1]  [1,2]  [1, 2]  [1][2] (each bracket on its own), and
# 【1】 from models that prefer full-width brackets.
MARKER = re.compile(r"[\[【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】]")
# The start of a marker at the end of streamed text ("…[1", "…【"): a sentence
# is not complete while its marker may still be arriving.
PARTIAL_MARKER = re.compile(r"[\[【]\s*[\d,，、\s]*$")
# Bracketed numbers inside documents (the paper's reference marks "[4,5]",
# "[4-6]"): they would read as markers, so a model is shown them as 〔…〕.
BRACKETED_NUMBERS = re.compile(r"\[(\d[\d,，、\-–\s]*)\]")


def marker(n: int) -> str:
    return f"[{n}]"


def markers_in(text: str) -> tuple[int, ...]:
    """The passage numbers cited in ``text``, in order, without repeats."""
    found: list[int] = []
    for m in MARKER.finditer(text):
        for part in re.split(r"[,，、]", m.group(1)):
            n = int(part)
            if n not in found:
                found.append(n)
    return tuple(found)


def strip_markers(text: str) -> str:
    return MARKER.sub("", text)
