"""Foreign names by their sound: is "Karot" written 卡洛特 in this text?

The documents write foreign places and companies as Chinese transliterations
(莫祖拉 for Mozura, 奇姆肯特 for Shymkent, 胡胡伊 for Jujuy) or, for Chinese
names, in characters whose pinyin the English spells (青山 for Tsingshan).
CC-CEDICT has none of these names, so an English question naming one could
not be checked at all: "the Karot hydropower station in Nepal" was answered
from a sentence about Nepal. No transliteration model or name dictionary
ships offline, so the match is explicit: a run of characters transliterates
an English word when the word can be cut, in order and with nothing left
over, into pieces each of which sounds like one character's pinyin (its
readings from CC-CEDICT's single-character entries).

A piece is an English onset (a consonant or a cluster such as "sh", "ts",
"th"), a vowel run and an optional nasal; or a lone consonant, which
transliteration gives a syllable of its own with a neutral vowel (t → 特,
m → 姆, s → 斯, r → 尔). Each English onset may be written with a few
pinyin initials (r → l or r, v → w or f, soft g/k → j/q, Spanish j → h), each
vowel with a few finals (o → o, uo, ou, u). Deliberately strict where it
matters for precision: every letter is accounted for and every character
spoken for, and only characters that transliteration uses count."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from silkqa.index.language import HAN_RUN
from silkqa.index.store.bilingual import cedict_entries
from silkqa.index.store.lexical import segmenter

_GLOSS_NAME = re.compile(r"[A-Z][a-z]{2,}")
# Longest transliteration considered (阿布扎比, 汉班托塔 are four or five).
_LONGEST = 6
# One-character words of place names that jieba glues to an unknown name.
_PLACE_SUFFIXES = frozenset("省市州县港岛湾河湖区")
# How many CC-CEDICT names a character must write to count as a transliteration character.
_CHARSET_SUPPORT = 2
_VOWELS = "aeiouy"
_PINYIN_INITIALS = (
    "zh",
    "ch",
    "sh",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
)
# English onsets, longest first, and the pinyin initials each is written
# with ("" is a syllable with no initial: 阿, 伊, 乌). Narrow on purpose: a
# looser table (every sibilant alike) found 金山 in "Shenzhen".
_ENGLISH_ONSETS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (onset, frozenset(initials.split(",")))
    for onset, initials in (
        ("sch", "sh,x"),
        ("tch", "q,ch"),
        ("sh", "sh,x,q"),  # q: Шымкент is 奇姆肯特
        ("ch", "ch,q"),
        ("zh", "zh,j"),
        ("ts", "c,z,q"),
        ("tz", "c,z"),
        ("th", "t,s"),
        ("ph", "f"),
        ("kh", "h,k"),
        ("gh", "g"),
        ("ck", "k"),
        ("qu", "k"),
        ("b", "b,p"),
        ("p", "p,b"),
        ("d", "d,t"),
        ("t", "t,d"),
        ("g", "g,k,j"),
        ("k", "k,g,j,q"),
        ("c", "k,s,x"),
        ("q", "k"),
        ("x", "x"),
        ("j", "j,zh,h,y"),
        ("l", "l"),
        ("r", "l,r"),
        ("m", "m"),
        ("n", "n"),
        ("f", "f"),
        ("v", "w,f"),
        ("w", "w"),
        ("h", "h,"),
        ("s", "s,x,sh"),
        ("z", "z,s"),
        ("y", "y,"),
    )
)
# Initials a soft g/k/c (before i, e, y) is written with: 吉/基, 奇, 西.
_SOFT = frozenset(("j", "q", "x", "s"))
# A vowel-initial piece is written with a zero-initial syllable or a y/w one.
_NO_ONSET = frozenset(("", "y", "w"))
# English vowel → the pinyin finals (without a nasal) that may write it.
_VOWEL_KIN = {
    "a": frozenset(("a", "ia", "ua", "ai", "ao")),
    "e": frozenset(("e", "ei", "ie", "ai")),
    "i": frozenset(("i", "ie", "ei", "ai")),
    "y": frozenset(("i", "ai")),
    "o": frozenset(("o", "uo", "ou", "u", "ao")),
    "u": frozenset(("u", "v", "ou", "uo", "iu")),
}
# The syllables a lone consonant is given (特, 德, 克, 格, 赫, 姆, 夫, 布, 普, 斯, 兹, 什, 尔, 勒).
_NEUTRAL = frozenset(("te", "de", "ke", "ge", "he", "mu", "fu", "bu", "pu", "si", "zi", "shi", "er", "le"))
# Place-name endings written with a word of their own (Sihanoukville → 西哈努克港).
_ENDINGS = ("ville", "burg", "town", "city", "port")


@lru_cache(maxsize=1)
def _readings() -> dict[str, tuple[tuple[str, str], ...]]:
    """Character → its toneless pinyin readings as (initial, final), from
    CC-CEDICT's single-character entries."""
    out: dict[str, set[tuple[str, str]]] = {}
    for headword, pinyin, _ in cedict_entries():
        if len(headword) == 1:
            for syllable in pinyin.split():
                out.setdefault(headword, set()).add(_split_syllable(syllable))
    return {char: tuple(sorted(readings)) for char, readings in out.items()}


def _split_syllable(syllable: str) -> tuple[str, str]:
    """("k", "a") for "ka3"; ü (written u: or v) becomes v."""
    syllable = re.sub(r"\d", "", syllable.lower()).replace("u:", "v")
    if syllable == "er":
        return "", "er"
    initial = next((i for i in _PINYIN_INITIALS if syllable.startswith(i)), "")
    return initial, syllable[len(initial) :]


def _normal(word: str) -> str:
    """The letters to match: lower case, without a place-name ending written
    as a word of its own (Sihanoukville → 西哈努克港), doubled letters single
    ("Saysettha" → "saysetha")."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    for ending in _ENDINGS:
        if letters.endswith(ending) and len(letters) - len(ending) >= 4:
            letters = letters[: -len(ending)]
            break
    return re.sub(r"(.)\1+", r"\1", letters)


def _onsets(word: str, at: int) -> list[tuple[int, frozenset[str]]]:
    """(end, initials) of every English onset at ``at``, the empty one
    included when a vowel follows."""
    out = [(at + len(onset), initials) for onset, initials in _ENGLISH_ONSETS if word.startswith(onset, at)]
    if at < len(word) and word[at] in _VOWELS:
        out.append((at, _NO_ONSET))
    return out


def _piece_ends(word: str, at: int, initial: str, final: str) -> list[int]:
    """Where an English piece starting at ``at`` ends when written with the
    syllable ``initial`` + ``final``; empty when it cannot be."""
    ends: list[int] = []
    for onset_end, initials in _onsets(word, at):
        if initial not in initials and not (final == "er" and onset_end > at):
            continue
        soft = onset_end < len(word) and word[onset_end] in "iey"
        if initial in _SOFT and word[at] in "gkc" and not soft:
            continue  # a hard g/k/c is never 吉/奇/西
        lone = initial + final in _NEUTRAL or (final == "er" and word[at] in "rl")
        if onset_end > at and lone and (onset_end == len(word) or word[onset_end] not in _VOWELS):
            ends.append(onset_end)  # a lone consonant: t → 特
        nasal = re.search(r"(ng|n)$", final)
        bare = final[: nasal.start()] if nasal else final
        run_end = onset_end
        while run_end < len(word) and word[run_end] in _VOWELS:
            run_end += 1
        for end in range(onset_end + 1, run_end + 1):
            if (bare or final) not in _VOWEL_KIN[word[onset_end]]:
                break
            if nasal is None:
                ends.append(end)
                continue
            for coda in ("ng", "n", "m"):
                if word.startswith(coda, end) and (coda != "ng" or nasal.group(1) == "ng"):
                    ends.append(end + len(coda))
    return ends


def sounds_like(word: str, han: str) -> bool:
    """Whether the characters ``han`` can be a transliteration of the English
    (or pinyin) ``word``: the whole word, cut into one piece per character."""
    target = _normal(word)
    readings = _readings()
    positions = {0}
    for char in han:
        positions = {
            end
            for at in positions
            for initial, final in readings.get(char, ())
            for end in _piece_ends(target, at, initial, final)
        }
        if not positions:
            return False
    return len(target) in positions or (target.endswith("e") and len(target) - 1 in positions)


@lru_cache(maxsize=1)
def _charset() -> frozenset[str]:
    """The characters transliteration uses (卡, 洛, 特, 斯, 拉…), learnt from
    CC-CEDICT itself: the characters of its foreign names (a headword glossed
    with one capitalised word) whose headword sounds like the gloss, kept when
    they write at least two such names. 要, 区, 形 and 象 never do: without
    this a run such as 形象 "sounded like" Tsingshan."""
    counts: Counter[str] = Counter()
    for headword, _, definitions in cedict_entries():
        if len(headword) > _LONGEST or not HAN_RUN.fullmatch(headword):
            continue
        glosses = (re.sub(r"\(.*?\)", "", d).strip() for d in definitions)
        if any(_GLOSS_NAME.fullmatch(g) and sounds_like(g, headword) for g in glosses):
            counts.update(set(headword))
    return frozenset(char for char, n in counts.items() if n >= _CHARSET_SUPPORT)


def transliterations_in(word: str, text: str) -> list[str]:
    """The words of ``text`` that sound like ``word``: runs of transliteration
    characters that start and end where jieba cuts a word, so that 厄瓜多尔
    (Ecuador) holds no 多尔 and 西哈努克 no "Hanoi". At least two characters,
    never more than the word has letters."""
    target = _normal(word)
    if len(target) < 3:
        return []
    charset = _charset()
    cuts, at = {0}, 0
    for token in segmenter().cut(text, HMM=True):
        at += len(token)
        cuts.add(at)
        if len(token) > 2 and token[-1] in _PLACE_SUFFIXES:
            cuts.add(at - 1)  # jieba writes 胡胡伊省 as one word
    found: list[str] = []
    for start in sorted(cuts):
        for end in range(min(len(text), start + len(target), start + _LONGEST), start + 1, -1):
            piece = text[start:end]
            if end in cuts and all(c in charset for c in piece) and sounds_like(target, piece):
                found.append(piece)
                break
    return list(dict.fromkeys(found))
