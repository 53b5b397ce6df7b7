"""Follow-up questions made standalone.

A chat user asks "那2022年的意见呢？" or "它的目标是什么？" after an earlier
question; retrieval needs the question spelled out. These rules carry the topic
(the document or the thing asked about) over from the conversation:

* ellipsis — "那X呢？" / "What about X?" re-asks the previous question with X in
  place of the phrase it stands for (the previous topic, or the phrase with the
  same head word: 交通领域 → 能源领域);
* reference — 它/其/该意见/这份文件, it/its/this plan are replaced by the topic of
  the latest turn that named one (a document the user named, else the first
  《title》 the assistant cited).

A question that needs nothing from the conversation is left alone."""

from __future__ import annotations

import re
from collections.abc import Sequence

import jieba

from silkqa.index.language import HAN_RANGE, MARKER, fold, question_language, strip_markers, strip_titles
from silkqa.service.answering.types import Rewrite, Turn

# --- Chinese ---------------------------------------------------------------
_ZH_DOC_HEADS = "指导意见|合作规划|进展报告|意见|规划|报告|论文|文章|框架|文件|倡议|方案|通知|计划"
_ZH_TOPIC = re.compile(rf"《[^》]{{2,60}}》|(?:\d{{4}}\s*年(?:的)?)?[{HAN_RANGE}“”\"]{{0,18}}?(?:{_ZH_DOC_HEADS})")
_ZH_LEADING = re.compile(r"^(?:请问|关于|那么|那|还有|另外|再问一下|再问)")
_ZH_ELLIPSIS = re.compile(r"^(?:那么|那|还有|另外|而)\s*(.+?)\s*(?:呢|怎么样|又如何|如何)\s*[？?]?$")
_ZH_REFERENCE = re.compile(
    rf"(?:该|这份|这个|这一|这篇|这|此)(?:{_ZH_DOC_HEADS})|它的|它(?!们)|(?<![尤极与])其(?![中他它余实次])"
)
# Plural references point at the items of the previous answer, not at a
# document; the previous question is carried along whole instead.
_ZH_PLURAL = re.compile(r"它们|这些|那些|上述|以上")
# Characters that end a noun phrase when walking back from its head word.
_ZH_PHRASE_BOUNDARY = set("对在把向于和与及是有从为给跟就将并而且或、，。？！：；")

# --- English ---------------------------------------------------------------
_EN_DOC_HEADS = (
    r"guiding opinions?|opinions?|guidelines?|cooperation plan|plan|progress report|report|paper|framework|document|initiative"
)
_EN_TOPIC = re.compile(rf"\bthe\s+(?:(?!the\b|of\b|about\b)[\w“”\"'’-]+\s+){{0,8}}?(?:{_EN_DOC_HEADS})\b|《[^》]{{2,60}}》", re.I)
_EN_ELLIPSIS = re.compile(r"^(?:and\s+|so\s+)?(?:(?:what|how)\s+about|and)\s+(.+?)\s*\??$", re.I)
_EN_REFERENCE = re.compile(rf"\b(?:this|that)\s+(?:{_EN_DOC_HEADS})\b|\bits\b|\bit\b", re.I)
_EN_BOUNDARY = frozenset(
    """the a an about on for of in to with by from does do did is are was were be say says said what which how
    when where who why and or its their this that""".split()
)
_EN_PLURAL = re.compile(r"\b(?:they|them|their|these|those|the above)\b", re.I)
_EN_LAST_OBJECT = re.compile(r"\b(?:about|on|for|regarding|in)\s+((?!the\b)[^?？]+?)\s*[?？]*$", re.I)


def is_english(text: str) -> bool:
    """An English question may name a Chinese document by its 《title》."""
    return question_language(text) == "en"


def topic_of(text: str) -> str | None:
    """The document or subject a turn names: "2022年的意见", "the 2017 guiding opinion", 《…》."""
    pattern = _EN_TOPIC if is_english(text) else _ZH_TOPIC
    m = pattern.search(text)
    if not m:
        return None
    return _ZH_LEADING.sub("", m.group(0)).strip() or None


def conversation_topic(history: Sequence[Turn]) -> str | None:
    """The topic of the latest exchange that has one: what the user named, else
    the first title the assistant's answer to it cited."""
    cited: str | None = None
    for turn in reversed(history):
        if turn.role == "assistant":
            m = re.search(r"《[^》]{2,60}》", turn.content)
            cited = m.group(0) if m else None
            continue
        topic = topic_of(turn.content) or cited
        if topic:
            return topic
        cited = None
    return cited


def _previous_question(history: Sequence[Turn]) -> str | None:
    return next((t.content.strip() for t in reversed(history) if t.role == "user" and t.content.strip()), None)


def _head(phrase: str) -> str:
    words = [w for w in jieba.lcut(phrase) if w.strip() and w not in "的之"]
    return words[-1] if words else phrase


def _complete_phrase(phrase: str, topic: str | None) -> str:
    """ "2017年的" or "the 2017 one" borrows the head noun of the topic."""
    if not topic:
        return phrase
    if phrase.endswith("的") and not topic.startswith("《"):
        head = re.search(rf"(?:{_ZH_DOC_HEADS})$", topic)
        return phrase + head.group(0) if head else phrase
    if re.search(r"\bone$", phrase, re.I):
        head = re.search(rf"(?:{_EN_DOC_HEADS})$", topic, re.I)
        return re.sub(r"\bone$", head.group(0), phrase, flags=re.I) if head else phrase
    return phrase


def _substitute(previous: str, phrase: str, english: bool) -> str:
    """``previous`` re-asked about ``phrase``."""
    topic = topic_of(previous)
    phrase = _complete_phrase(phrase, topic)
    if topic and topic_of(phrase):
        return previous.replace(topic, phrase, 1)
    if english:
        span = _english_phrase_with_head(previous, phrase.split()[-1])
        if span:
            return previous[: span[0]] + phrase + previous[span[1] :]
        m = _EN_LAST_OBJECT.search(previous)
        if m:
            return previous[: m.start(1)] + phrase + previous[m.end(1) :]
        return f"{previous.rstrip('?？ ')} ({phrase})?"
    head = _head(phrase)
    at = previous.find(head)
    if at > 0:
        start = at
        while start > 0 and previous[start - 1] not in _ZH_PHRASE_BOUNDARY and not topic_covers(previous, topic, start - 1):
            start -= 1
        return previous[:start] + phrase + previous[at + len(head) :]
    return f"{phrase}：{previous}"


def _english_phrase_with_head(text: str, head: str) -> tuple[int, int] | None:
    """Span of the noun phrase in ``text`` ending in ``head`` (its modifiers up
    to a function word): "coal power" for head "power"."""
    words = list(re.finditer(r"[\w'’-]+", text))
    ends = [i for i, w in enumerate(words) if w.group(0).lower() == head.lower()]
    if not ends:
        return None
    first = last = ends[-1]
    while first > 0 and last - first < 3 and words[first - 1].group(0).lower() not in _EN_BOUNDARY:
        first -= 1
    if first > 0 and words[first - 1].group(0).lower() in ("the", "a", "an"):
        first -= 1
    return words[first].start(), words[last].end()


def topic_covers(text: str, topic: str | None, position: int) -> bool:
    if not topic:
        return False
    at = text.find(topic)
    return at >= 0 and at <= position < at + len(topic)


def _resolve_references(question: str, topic: str, english: bool) -> str:
    if english:
        possessive = topic + ("’s" if topic.endswith("》") else "'s")

        def english_sub(m: re.Match[str]) -> str:
            word = m.group(0)
            return possessive if word.lower() == "its" else topic

        return _EN_REFERENCE.sub(english_sub, question)

    def chinese_sub(m: re.Match[str]) -> str:
        word = m.group(0)
        if word in ("它的", "它们的", "其"):
            return topic + "的"
        return topic

    return _ZH_REFERENCE.sub(chinese_sub, question)


def rewrite_by_rules(question: str, history: Sequence[Turn], max_chars: int) -> Rewrite:
    """The question made standalone by the rules. The rewrite is held to the
    question's own length limit, ``max_chars``: a reference replaced by a long
    topic, or a long earlier question carried along, would otherwise make a
    short question as costly as no question may be. Over it, the question is
    answered as asked."""
    rewrite = _rewrite(question.strip(), history)
    if len(rewrite.standalone) > max_chars:
        return Rewrite(rewrite.question, rewrite.question, None)
    return rewrite


def _rewrite(question: str, history: Sequence[Turn]) -> Rewrite:
    previous = _previous_question(history)
    if previous is None:
        return Rewrite(question, question, None)
    english = is_english(question)
    ellipsis = (_EN_ELLIPSIS if english else _ZH_ELLIPSIS).match(question)
    if ellipsis:
        phrase = ellipsis.group(1).strip()
        return Rewrite(question, _substitute(previous, phrase, is_english(previous)), "rules")
    topic = conversation_topic(history)
    if topic and _refers_back(question, english):
        return Rewrite(question, _resolve_references(question, topic, english), "rules")
    if (_EN_PLURAL if english else _ZH_PLURAL).search(question):
        return Rewrite(question, f"{previous} {question}", "rules")
    return Rewrite(question, question, None)


def _refers_back(question: str, english: bool) -> bool:
    """It has a reference word and names no topic of its own."""
    reference = _EN_REFERENCE if english else _ZH_REFERENCE
    return bool(reference.search(strip_titles(question))) and not topic_of(reference.sub(" ", question))


def needs_context(question: str, history: Sequence[Turn]) -> bool:
    """Whether the question leans on the conversation (what the LLM rewriter is asked about)."""
    if not _previous_question(history):
        return False
    english = is_english(question)
    plural = (_EN_PLURAL if english else _ZH_PLURAL).search(question)
    return bool((_EN_ELLIPSIS if english else _ZH_ELLIPSIS).match(question.strip()) or plural) or _refers_back(question, english)


def format_history(history: Sequence[Turn], lang: str, turns: int = 4, chars: int = 300) -> str:
    """The last turns as the rewriting prompt shows them, markers dropped and long answers cut."""
    names = {"user": "用户", "assistant": "助手"} if lang == "zh" else {"user": "User", "assistant": "Assistant"}
    lines = []
    for turn in history[-turns:]:
        text = re.sub(r"\s+", " ", strip_markers(turn.content)).strip()
        lines.append(f"{names[turn.role]}：{text[:chars]}" if lang == "zh" else f"{names[turn.role]}: {text[:chars]}")
    return "\n".join(lines)


def acceptable_rewrite(candidate: str, question: str) -> bool:
    """An LLM's rewrite is used only when it looks like one question."""
    text = candidate.strip()
    return (
        bool(text)
        and "\n" not in text
        and len(text) <= 3 * len(question) + 80
        and not MARKER.search(text)
        and fold(text) != fold(question)
    )
