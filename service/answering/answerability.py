"""Whether a piece of evidence answers the question asked, tested part by part.

Evidence answers a question when it contains every hard constraint of the
question (``answering.question``) — in the sentence itself, its section path
or its table row's context — and, for a question that expects a figure, a
date, a place, an organisation or a person, a span of that type together with
the asked attribute. A word the library has never seen cannot be answered
about at all. The verdict lists what is missing, so an abstention can say it:
"文件提到……，没有提到坦桑尼亚。"

A similarity score is not evidence: a passage about Kenya's railway scores as
well for a question about Tanzania as for one about Kenya. These tests are
string tests, deterministic and explainable."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from silkqa.index.language import HAN, compact
from silkqa.index.store.transliteration import transliterations_in
from silkqa.service.answering.quantities import Quantity, states
from silkqa.service.answering.question import parts_of_speech, place_within
from silkqa.service.answering.types import AnswerType, Constraint, ConstraintKind, MetadataField, QuestionAnalysis

_HAS_FIGURE = re.compile(r"\d|[一二两三四五六七八九十百千万亿]+(?:个|项|家|座|条|名|次|届|批|类|大|种)")
_ORGANISATION = re.compile(
    r"[\u4e00-\u9fff]{1,12}(?:部|委员会|委|局|院|署|办公室|中心|基金|银行|公司|集团|大学|联盟|组织|协会|理事会|秘书处|政府|学会|小组)"
)
_PLACE_MARK = re.compile(
    r"[\u4e00-\u9fff]{1,8}(?:国|省|市|州|港|岛|湾|河|湖|山|地区|流域|半岛)(?![\u4e00-\u9fff]{0,1}(?:家|际|内|外))"
)
_PERSON_MARK = re.compile(
    r"[\u4e00-\u9fff]{2,4}(?:主席|总理|部长|总统|秘书长|教授|先生|女士|博士)|(?:主席|总理|部长|总统|秘书长)[\u4e00-\u9fff]{2,4}"
)


class Gap(StrEnum):
    ABSENT = "absent"  # no document contains it
    NOT_WITH = "not_with"  # documents contain it, not this evidence
    DETAIL = "detail"  # the evidence is about the subject but lacks the asked detail
    CONTRADICTED = "contradicted"  # the evidence says it was done where the question says it was not


@dataclass(frozen=True)
class Missing:
    what: str  # as the question says it, or the kind of detail ("年份")
    gap: Gap


@dataclass(frozen=True)
class Judgement:
    missing: tuple[Missing, ...]  # the hard constraints this evidence lacks
    answers: frozenset[int]  # the question's asks it answers (indices into ``asks``)
    lacking: tuple[Missing, ...]  # the details it lacks for the other asks
    covers: frozenset[str] = frozenset()  # the grouped constraints it holds (each answered in its own sentence)

    @property
    def ok(self) -> bool:
        return not self.missing and bool(self.answers)

    @property
    def gaps(self) -> tuple[Missing, ...]:
        return self.missing + self.lacking


_QUOTE_MARKS = re.compile(r"[“”‘’\"'《》「」]")


def present(constraint: Constraint, evidence: str) -> bool:
    """``evidence`` already ``compact``. A quoted phrase is found whatever
    quotation marks stand inside it."""
    if constraint.kind is ConstraintKind.QUOTED:
        bare = _QUOTE_MARKS.sub("", evidence)
        return any(_QUOTE_MARKS.sub("", compact(form)) in bare for form in constraint.forms if form)
    if constraint.abbreviation and any(spelled_out(form, evidence) for form in constraint.forms):
        return True
    if constraint.transliterated:
        return bool(transliterations_in(constraint.text, evidence))
    return any(_names(compact(form), evidence) for form in constraint.forms if form)


def _names(form: str, evidence: str) -> bool:
    """Whether ``evidence`` names ``form`` somewhere other than inside a longer
    place ("Which Indian ministry…" is not answered by 印度尼西亚)."""
    return any(not place_within(evidence, m.start(), m.end()) for m in re.finditer(re.escape(form), evidence))


# At most this many characters of a full name between two of its short form's.
_SPELLED_GAP = 6


def spelled_out(short: str, evidence: str) -> bool:
    """Whether ``evidence`` (already ``compact``) holds ``short`` spelled out:
    its characters in order within one run of Chinese characters, the first
    and last standing where the full name starts and ends (亚投行 in
    "亚洲基础设施投资银行批准项目总额", 国开行 in "国家开发银行")."""
    if not short or not HAN.fullmatch(short[0]):
        return False
    return _in_order(short, evidence, f"[\u4e00-\u9fff]{{0,{_SPELLED_GAP}}}?") is not None


def _in_order(word: str, evidence: str, gap: str) -> re.Match[str] | None:
    """Where ``evidence`` holds the characters of ``word`` in order, ``gap`` (a pattern) between each two."""
    return re.search(gap.join(re.escape(ch) for ch in word), evidence)


_NEGATION = re.compile(r"[没未不无非]|缺乏|尚待|有待")


def affirms(word: str, evidence: str) -> bool:
    """Whether ``evidence`` (already ``compact``) says ``word`` was done: it
    mentions it (环评 as 环境影响评价 too, its characters in order a few
    apart) with no negation just before ("项目积极开展环境影响评价工作" does; "未开展环评" does not)."""
    m = _in_order(compact(word), evidence, ".{0,4}")
    return m is not None and not _NEGATION.search(evidence[max(0, m.start() - 4) : m.start()])


def mentions(word: str, evidence: str) -> bool:
    """Whether ``evidence`` (already ``compact``) holds ``word``, or, for a
    short Chinese word, its characters in order close together: 投运 is said
    as 投入运营."""
    word = compact(word)
    if word in evidence:
        return True
    if not (2 <= len(word) <= 4) or not HAN.search(word):
        return False
    return _in_order(word, evidence, ".{0,2}") is not None


# The detail a typed question asks for, as an abstention names it.
_DETAIL_WORDS = {
    "zh": {
        AnswerType.DATE: "时间",
        AnswerType.FIGURE: "具体数字",
        AnswerType.PLACE: "地点",
        AnswerType.ORGANISATION: "部门或机构",
        AnswerType.PERSON: "人物",
    },
    "en": {
        AnswerType.DATE: "the date",
        AnswerType.FIGURE: "the figure",
        AnswerType.PLACE: "the place",
        AnswerType.ORGANISATION: "the organisation",
        AnswerType.PERSON: "the person",
    },
}
_QUANTITY_WORDS = {
    "zh": {
        Quantity.MONEY: "金额",
        Quantity.POWER: "装机容量",
        Quantity.LENGTH: "长度",
        Quantity.MASS: "数量（吨）",
        Quantity.ENERGY: "电量",
        Quantity.DATE: "时间",
        Quantity.DAY: "具体日期",
        Quantity.ORGANISATIONS: "数量",
    },
    "en": {
        Quantity.MONEY: "the amount of money",
        Quantity.POWER: "the capacity",
        Quantity.LENGTH: "the length",
        Quantity.MASS: "the tonnage",
        Quantity.ENERGY: "the amount of electricity",
        Quantity.DATE: "the date",
        Quantity.DAY: "the exact day",
        Quantity.ORGANISATIONS: "the number",
    },
}


_METADATA_WORDS = {
    "zh": {MetadataField.ISSUER: "发布部门", MetadataField.DATE: "发布时间", MetadataField.NUMBER: "文号"},
    "en": {
        MetadataField.ISSUER: "the issuing body",
        MetadataField.DATE: "the date of issue",
        MetadataField.NUMBER: "the document number",
    },
}


def metadata_word(lang: str, field: MetadataField) -> str:
    return _METADATA_WORDS[lang][field]


def detail_word(lang: str, kind: AnswerType) -> str:
    return _DETAIL_WORDS[lang].get(kind, "具体内容" if lang == "zh" else "the detail asked for")


# What a figure question is not answered by: dates, ordinals, codes ("COP15").
_NOT_A_FIGURE = re.compile(
    r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*(?:[至—–-]\s*\d{1,2}\s*)?日"
    r"|第\s*[\d一二三四五六七八九十]+|[A-Za-z]+\d+|\d{4}\s*[—–-]\s*\d{4}"
    # "一大批…项目": a great many, not a count (三大炼厂 is three).
    r"|(?<![\d一二两三四五六七八九十百千万亿])一大"
)
# Bodies and places too general to name the one asked for: "委托老挝本地公司",
# "我国", "沿线国家".
_VAGUE = re.compile(
    r"(?:本地|当地|相关|有关|各|该|这家|一家|多家|境外|海外|中外)(?:公司|企业|机构|部门|银行)"
    r"|我国|各国|沿线国家|共建国家|本国|他国"
)


def _without(sentence: str, given: Sequence[Constraint]) -> str:
    """``sentence`` with the question's own names blanked out."""
    for constraint in given:
        for form in constraint.forms:
            if form:
                sentence = sentence.replace(form, " ")
    return sentence


def _states_type(kind: AnswerType, sentence: str, given: Sequence[Constraint] = (), words: Sequence[str] = ()) -> bool:
    """Whether ``sentence`` holds a span of type ``kind`` other than the
    ``given`` names: the place asked for is not the place the question names
    ("中亚区域办公室在哪个城市" is not answered by 中亚). Nor is the body asked
    about the one asked for: in "…转移中心是哪年揭牌的？谁建的？" the 中心 of
    "…转移中心（深圳）正式揭牌" is the subject (the question's own ``words``),
    not who built it."""
    sentence = _without(sentence, given)
    if kind in (AnswerType.ORGANISATION, AnswerType.PERSON, AnswerType.PLACE):
        for word in words:
            sentence = sentence.replace(word, " ")
    if kind is AnswerType.DATE:
        return states(Quantity.DATE, sentence)
    if kind is AnswerType.FIGURE:
        return bool(_HAS_FIGURE.search(_NOT_A_FIGURE.sub(" ", sentence)))
    specific = _VAGUE.sub(" ", sentence)
    if kind is AnswerType.ORGANISATION:
        return bool(_ORGANISATION.search(specific)) or "nt" in _tags(specific)
    if kind is AnswerType.PLACE:
        return bool(_PLACE_MARK.search(specific)) or "ns" in _tags(specific)
    if kind is AnswerType.PERSON:
        # In policy documents "who" is as often a body as a person.
        tags = _tags(sentence)
        return bool(_PERSON_MARK.search(sentence) or _ORGANISATION.search(sentence)) or bool(tags & {"nr", "nrfg", "nt"})
    return True


def _names_a(kind: str, sentence: str, given: Sequence[Constraint]) -> bool:
    """Whether ``sentence`` names a particular member of ``kind`` ("中国银行" for
    银行), not a vague one ("相关银行") nor one the question names itself."""
    sentence = _without(sentence, given)
    return re.search(rf"[\u4e00-\u9fff]{{2,12}}{kind}", _VAGUE.sub(" ", sentence)) is not None


def _tags(sentence: str) -> set[str]:
    return {flag for _, flag, _ in parts_of_speech(sentence)}


def judge(analysis: QuestionAnalysis, sentence: str, context: str) -> Judgement:
    """Whether ``sentence`` (with ``context``: its document title, section path
    and table row context) answers ``analysis``, and what it lacks if not."""
    body = compact(sentence)
    around = compact(context) + body
    missing: list[Missing] = []
    covers = {c.text for c in analysis.constraints if c.group is not None and c.in_library and present(c, around)}
    groups_held = {c.group for c in analysis.constraints if c.text in covers}
    for constraint in analysis.constraints:
        if not constraint.in_library:
            missing.append(Missing(constraint.text, Gap.ABSENT))
        elif constraint.group is not None:
            if constraint.group not in groups_held and constraint.text not in {m.what for m in missing}:
                missing.append(Missing(constraint.text, Gap.NOT_WITH))
        elif constraint.ask is not None:
            continue  # judged with its ask
        elif not present(constraint, around):
            missing.append(Missing(constraint.text, Gap.NOT_WITH))
    missing.extend(Missing(word, Gap.CONTRADICTED) for word in analysis.denied if affirms(word, body))
    answers: set[int] = set()
    lacking: list[Missing] = []
    words = _QUANTITY_WORDS[analysis.lang]
    for i, ask in enumerate(analysis.asks):
        absent = [c for c in analysis.constraints if c.ask == i and not present(c, around)]
        if absent:
            lacking.extend(Missing(c.text, Gap.NOT_WITH) for c in absent)
            continue
        details = [words[kind] for kind in sorted(ask.quantities) if not states(kind, sentence)]
        own = [w for w in analysis.focus if len(w) >= 2]
        if not ask.quantities and not _states_type(ask.answer_type, sentence, analysis.constraints, own):
            details.append(detail_word(analysis.lang, ask.answer_type))
        elif ask.kind_of and not _names_a(ask.kind_of, sentence, analysis.constraints):
            details.append(ask.kind_of)
        details.extend(word for word in ask.counted if not mentions(word, around))
        if ask.bound_to and not any(mentions(word, around) for word in ask.bound_to):
            # One gap names both: "投资的金额", not "金额" and "投资的具体数字".
            # An English ask is bound to Chinese forms: name it by the question's own word.
            word = ask.attribute[-1] if analysis.lang == "en" and ask.attribute else ask.bound_to[-1]
            detail = details[0] if details else detail_word(analysis.lang, ask.answer_type)
            details = [f"{word}的{detail}" if analysis.lang == "zh" else f"{detail} of {word}"]
        gaps = [Missing(detail, Gap.DETAIL) for detail in details]
        if gaps:
            lacking.extend(gaps)
        else:
            answers.add(i)
    return Judgement(tuple(missing), frozenset(answers), tuple(lacking), frozenset(covers))
