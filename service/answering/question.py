"""What a question asks: the documents it names, its hard constraints (places,
organisations, people, projects, quoted names, years and numbers, and words
the library has never seen), the type of answer it expects, and the asked
attribute that answer must be bound to.

"进展报告里比亚迪向智利交付的纯电动公交车是哪一年开始运营的？" names the
progress report, constrains the answer to 比亚迪 and 智利, expects a year, and
asks about 运营: a sentence with a year but no word of operation does not
answer it. "Which Tanzanian cities does the Mombasa–Nairobi railway
connect?" constrains it to Tanzania, which the library never mentions.

The analysis is deterministic and explainable: the answerability check
(``answering.answerability``) tests evidence against exactly these parts, and
an abstention names the parts that were missing. The raw material is jieba's
parts of speech, the library's own vocabulary (through its BM25 index), the
manifest's document names and CC-CEDICT for English names."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache

import jieba.posseg

from silkqa.index.language import ENGLISH_STOPWORDS, HAN, STOPWORDS, compact, fold, question_language
from silkqa.index.store.bilingual import chinese_glosses, english_lemmas, kinds_of, translations
from silkqa.index.store.lexical import han_bigrams, segmenter
from silkqa.index.store.types import LexicalStats
from silkqa.service.answering import sections
from silkqa.service.answering.quantities import asked_quantities
from silkqa.service.answering.types import (
    AnswerType,
    Ask,
    Constraint,
    ConstraintKind,
    MetadataField,
    QuestionAnalysis,
)

# --- answer types -----------------------------------------------------------------

# First match wins, so the specific patterns come before the general ones.
_ZH_TYPES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.DATE, re.compile(r"哪一?年|哪几年|哪年|何时|什么时候|什么时间|哪一?天|几月|哪个月|日期|时间是")),
    (
        AnswerType.ORGANISATION,
        re.compile(
            r"哪(个|些|家)[\u4e00-\u9fff]{0,2}?(部门|机构|单位|组织|部委|银行|企业|公司)|由谁|谁(发布|印发|牵头|主办|负责)|牵头单位"
        ),
    ),
    (AnswerType.PERSON, re.compile(r"谁|哪位|何人|作者")),
    (
        AnswerType.PLACE,
        re.compile(r"哪里|哪儿|在哪(?![些个几种类一])|哪(个|些|两个|几个)?(国家|城市|地区|地方|地点|省|港口)|哪国|何地"),
    ),
    (
        AnswerType.FIGURE,
        re.compile(
            r"多少|(?<!哪)几(?:万|亿|千|百|十|年|辆|台|户|吨|次|倍|趟|对|列|艘|架|座|份|名)|多大|多长|多高|多远|多久|比例|占比|百分之|比重"
        ),
    ),
    (AnswerType.REASON, re.compile(r"为什么|为何|为啥|原因|缘由|怎么会")),
    (AnswerType.DEFINITION, re.compile(r"什么是|是什么意思|指什么|指的是什么|含义|定义")),
    (AnswerType.YES_NO, re.compile(r"是否|有没有|是不是|能否|可否|吗[？?]?\s*$")),
    (AnswerType.LIST, re.compile(r"哪些|哪几|有什么|包括什么|包含什么|都有|几[项条个点类种]|几个方面")),
    # "…的环评是谁做的？总目标是什么？": a clause of its own, so the answer has a part for it.
    (AnswerType.OTHER, re.compile(r"(?<!什么)是什么[？?]?\s*$")),
)
_EN_TYPES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    # "when" asks only as the clause's question word, not in "…drawn on when building…".
    (
        AnswerType.DATE,
        re.compile(r"^\W*when\b|\band when\b|\bwhat (year|date|month|day)\b|\bwhich year\b|\bin what year\b", re.I),
    ),
    (
        AnswerType.ORGANISATION,
        re.compile(
            r"\bwhich (?:[a-z]+ ){0,2}(ministr|department|agenc|organi[sz]ation|institution|bank|compan)\w*"
            r"|\bwho (issued|published|released|leads|led)\b",
            re.I,
        ),
    ),
    (AnswerType.PERSON, re.compile(r"\bwho\b|\bwhose\b", re.I)),
    (AnswerType.PLACE, re.compile(r"\bwhere\b|\bwhich (?:[A-Za-z]+ ){0,2}(countr|cit|region|port|province)\w*", re.I)),
    (
        AnswerType.FIGURE,
        re.compile(
            r"\bhow (many|much|long|large|big|far|high)\b|\bwhat (share|percentage|proportion|amount)\b"
            # "What is the Mozura wind farm's annual output?": a figure named by what it measures.
            r"|\bwhat (?:is|was|are|were) (?:the |its )?(?:[\w'’-]+ ){0,5}?(?:capacity|output|length|investment|cost)\b",
            re.I,
        ),
    ),
    (AnswerType.REASON, re.compile(r"\bwhy\b|\bwhat (is|was) the reason\b|\bfor what reason\b", re.I)),
    (AnswerType.DEFINITION, re.compile(r"\bwhat (is|are) meant by\b|\bwhat does .+ mean\b|\bdefin(e|ition)\b", re.I)),
    (AnswerType.YES_NO, re.compile(r"^\s*(is|are|was|were|does|do|did|can|could|will|has|have|should)\b", re.I)),
    (AnswerType.LIST, re.compile(r"\bwhat are\b|\bwhich\b|\blist\b|\bwhat (measures|steps|principles|goals|tasks)\b", re.I)),
)
# Several things wanted: a list, a part per document, two questions in one.
_SEVERAL_ZH = re.compile(r"哪些|哪几|分别|各[有是要为自]|都有|有几[条个项]|几[条项个]方面|[？?].+[？?]|和.+(分别|各自)")
_AUXILIARY = r"(?:does|do|did|is|was|are|were|has|have|had|this|its|the)\b"
_SEVERAL_EN = re.compile(r"\bwhich\b.*\bare\b|\bwhat are\b|\blist\b|\brespectively\b|\beach of\b|\bboth\b|[?].+[?]", re.I)
# "What safeguard measures…", "Which projects…": a plural asked for (not "what does", "what status").
_PLURAL_EN = re.compile(
    r"\b(?:what|which)\s+(?:(?!" + _AUXILIARY + r")[a-z-]+\s+){0,3}(?!" + _AUXILIARY + r")[a-z-]+[^su\s's]s\b", re.I
)
# Two names hyphenated into one ("澜沧江-湄公河", "中国—东盟").
_HYPHEN = re.compile(r"\s*[-–—－]\s*")
# The longest short form of a name (亚投行, 进出口行) read as one that may be spelled out.
_SHORT_FORM_CHARS = 4
# A numbered part of a document: "408号文第四部分的保障措施", "第三章", "最后一部分".
_PART = re.compile(r"第([一二三四五六七八九十]{1,3})(?:大)?(?:部分|章)|(最后)一?(?:个)?(?:部分|章)")
# What happened after a document: it is named to say which thing is meant, not as the source.
_LATER = re.compile(r"后来|此后|之后又|\b(?:later|afterwards|since then)\b", re.IGNORECASE)
_COMPARE = re.compile(
    r"分别|各自|对比|相比|比较|区别|异同|不同之处|\brespectively\b|\bcompare|\bdiffer|\bboth\b|\beach of\b", re.I
)

# Asking for a document's own particulars: who issued it, when, its number.
_METADATA: tuple[tuple[MetadataField, re.Pattern[str]], ...] = (
    (MetadataField.NUMBER, re.compile(r"文号|发文字号|几号文|document number|reference number", re.I)),
    (
        MetadataField.ISSUER,
        re.compile(
            # The document is what was issued: the verb ends its clause.
            # Not who approved it first ("经过哪个机构同意才印发的").
            r"((哪[个些家]|哪几个|什么)(部门|机构|单位|部委)|谁)(?:(?!同意|批准|审议|审定)[^？?，,]){0,10}"
            r"(发布|印发|出台|颁布|制定|联合发布|联合印发|联合发)(的|了)?\s*(呢|吗)?\s*([？?。！!]|$)"
            r"|发文机关|发布机构|发布单位"
            r"|\bwho (issued|published|released|wrote|drafted)\b"
            r"|\bwhich (?:\w+ )?(ministries|ministry|departments|department|agencies|agency)\b.*\b(issue|publish|release)",
            re.I,
        ),
    ),
    (
        MetadataField.DATE,
        re.compile(
            r"(什么时候|何时|哪[一]?天|哪[一]?年|哪个月|几月)[^？?，,]{0,4}(发布|印发|出台|颁布|发表)(的|了)?\s*(呢|吗)?\s*([？?。！!]|$)"
            r"|(发布|印发|出台)(时间|日期|于)"
            r"|\bwhen (was|were|did)\b.*\b(issued|published|released|adopted|issue|publish|release)",
            re.I,
        ),
    ),
)

# Words that refer to a document or to the asking itself, not to the subject.
_DOCUMENT_WORDS = frozenset(
    """指导意见 意见 规划 合作规划 报告 进展报告 论文 文章 文件 文档 框架 这份 那份 这篇 那篇 资料 材料 原文 里面 里 中
    提到 说 讲 写 介绍 提及 表示 指出 认为 规定 明确 第几 一下 具体 情况 内容 方面 相关 主要 哪些 怎样 如何 怎么 什么
    多少 几 请问 能否 是否 表里 表中 表格 网页 原话 大事记 记录 记载 列出 列举 印发 发布 出台 颁布 发文
    论证 论述 阐述 阐明 论及 谈到 探讨 强调 概括 归纳""".split()
)
# Words asking for an aspect of something (its attitude, highlights, examples):
# what kind of answer is wanted, never a thing the documents must name.
_ASPECT_WORDS = frozenset(
    """态度 亮点 特点 特色 例子 看法 说法 评价 影响 意义 作用 地位 区别 不同 差别 异同 原因 办法 好处 效果 表现 细节
    角度 维度 方面 内容 情况 分别 各自 特别之处 特别 之处 关系 联系 做法 经验 启示 条 项 点 块""".split()
)
_EN_DOCUMENT_WORDS = frozenset(
    """document documents opinion opinions guiding guideline guidelines plan cooperation report progress paper article framework
    study authors author say says said mention mentions mentioned state states stated describe describes according text
    what which who whom when where why how many much does do did is are was were
    argue argues argued discuss discusses discussed explain explains explained""".split()
)
# Place words too general to constrain anything.
_GENERIC_NAMES = frozenset(
    "中国 我国 国家 国内 国外 国际 全球 世界 各国 沿线 沿线国家 地区 城市 海外 境外 中方 各方 当地 东道国".split()
)
_EN_SENTENCE_START = frozenset(
    """what which who whom whose when where why how is are was were does do did can could will would should has have
    please tell list give""".split()
)
_NAME_TAGS = frozenset({"ns", "nr", "nrt", "nrfg", "nt", "nz", "eng"})
# Only a noun the library has nothing of rules a question out: verbs and
# adjectives are paraphrased too freely (定为, 能供) to count.
_NOUN_TAGS = frozenset({"n", "nz", "j", "l", "i"})
# A word jieba does not tag (a domain word) is a name when it names a project,
# a body or a programme: 蒙内铁路, not 清洁能源.
_PROJECT_NAME = re.compile(
    r"[\u3400-\u9fff]{2,}(铁路|公路|港|电站|项目|工程|园区?|示范区|中心|基金|银行|公司|集团|联盟|计划|倡议|论坛|大会|协议|宣言|共识)$"
)
# Quoted words this short are emphasis, not names.
_EMPHASIS_CHARS = 4
_COORDINATION = re.compile(r"和|与|及|以及|、|跟|同|或|或者|还是|and|or|,|，")
_CLAUSE_BREAK = re.compile(r"[？?；;。]")
# What jieba makes of the pieces of a name it does not know.
_NAME_PIECE_TAGS = frozenset({"n", "ng", "nr", "nrt", "nrfg", "ns", "nz", "nt", "x", "j"})
# Question expressions beyond the answer types' own patterns.
_ZH_QUESTION_WORDS = re.compile(
    r"怎么回事|怎么样|怎样|如何|干什么|做什么|是什么|有什么|什么样|哪些|哪几个?|哪一?个|什么|时候|现在|目前|如今|当年|今后|以后"
)
# Words around a question word that do not say what is asked.
_GENERIC_ATTRIBUTES = frozenset(
    """开始 进行 实现 达到 提供 需要 主要 要求 有 是 为 做 出 来自 包括 涉及 属于 占 用 能 可以 会 要 对 将 让 使 给
    共 一共 总共 具体 规模 数量 金额 比例 总量 总额 数目 人数 数字 水平 钱 人 年 次""".split()
)
# Capitalised English words that name no place or body.
_EN_COMMON_CAPITALS = frozenset(
    """english chinese i belt road initiative bri silk green january february march april may june july august
    september october november december monday tuesday wednesday thursday friday saturday sunday""".split()
)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*年)?(?!\d)")
_NUMBER_WITH_UNIT = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万|亿)?\s*"
    r"(公里|千米|千瓦|兆瓦|吨|美元|元|人民币|公顷|辆|台|户|个|家|项|座|名|人|%|％|km|MW|GW)",
    re.I,
)
# 个 too: "越南第二个现代化垃圾焚烧项目" is not the one the report calls 第一个.
_ORDINAL_UNITS = "届次批期轮个"
_ORDINAL = re.compile(rf"第[一二三四五六七八九十\d]+[{_ORDINAL_UNITS}]|首[{_ORDINAL_UNITS}]")
_ORDINAL_SYNONYMS = {f"第一{u}": (f"首{u}",) for u in _ORDINAL_UNITS} | {f"首{u}": (f"第一{u}",) for u in _ORDINAL_UNITS}
_EN_ORDINALS = dict(
    zip("first second third fourth fifth sixth seventh eighth ninth tenth".split(), "一二三四五六七八九十", strict=True)
)
# "its fourth section", "the final section".
_EN_PART = re.compile(r"\b(" + "|".join(_EN_ORDINALS) + r"|final|last|closing|concluding)\s+(?:part|section|chapter)\b", re.I)
# An ordinal before an event or a batch ("the second Belt and Road Green Innovation Conference").
_EN_ORDINAL = re.compile(
    r"\b(" + "|".join(_EN_ORDINALS) + r")\b(?=(?:\s+[\w'’-]+){0,6}?\s+"
    r"(?:conference|forum|summit|meeting|session|congress|assembly|batch|round|expo)s?\b)",
    re.I,
)
_QUOTED = re.compile(r"《([^》]{2,60})》|“([^”]{2,40})”|\"([^\"]{2,40})\"")
# "为什么没做环评就开工了": a reason asked for something taken as not done.
_DENIED = re.compile(
    r"(?:为什么|为何|怎么)[^，,。？?]{0,8}?(?:没有|没|未|并未|从未|不曾)(?:做|进行|开展|搞|经过|经|通过|提到|提及|涉及|说明)?"
    r"([\u4e00-\u9fff]{2,4}?)(?=就|便|而|却|[，,。？?]|$)"
)
_EN_PERCENT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:%|per\s?cent\b)", re.I)
# A run of capitalised words, hyphenated or not: "Abu Dhabi", "China–Europe Railway Express".
_EN_NAME_RUN = re.compile(r"\b[A-Z][A-Za-z'’]*(?:(?:\s+|[-–—])[A-Z][A-Za-z'’]*)*")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
# What a list is of, too general to be looked for in its items.
_GENERIC_CLASSES = frozenset(
    """措施 要求 方面 内容 工作 任务 问题 目标 重点 领域 举措 意义 作用 情况 成果 进展 做法 建议 政策 行动 机制
    项目 活动 方式 途径""".split()
)
HAN_ONLY = re.compile(r"[\u3400-\u9fff]+")
# How rare a name must be in the library to constrain an answer: a name in
# more passages than this share (中国, 沿线国家) describes the whole library.
_GENERIC_SHARE = 0.05
# Bodies a question asks for by a class whose members are named with it:
# "哪家中资银行" wants a "…银行"; "哪个部门" wants any body (``answerability``).
_NAMED_KINDS = {"银行": "bank", "公司": "compan"}  # and how an English question says it
# Asking how something is done: "采用什么方式招标", "以什么形式合作".
_MANNER = re.compile(r"(?:什么|哪种|何种|哪一种)(?:方式|形式|方法|模式|渠道|途径)")


_PHRASE_PIECE = 3


class LibraryTerms:
    """What the library's vocabulary says about a term: whether any passage
    contains it, and how many passages do. Read through the BM25 index, so it
    costs a dictionary look-up whatever the library's size."""

    def __init__(self, lexical: LexicalStats):
        self.lexical = lexical

    def passages_with(self, term: str) -> int:
        """An estimate of how many passages contain ``term`` (0: none)."""
        term = fold(term).strip()
        if not term:
            return 0
        idf = self.lexical.idf(term)
        if idf == 0.0 and len(term) >= 2:
            # Not a word of the index: its tokens (words and character pairs)
            # must all be there ("2030年前碳达峰行动方案").
            tokens = han_bigrams(term) if HAN_ONLY.fullmatch(term) else self.lexical.tokens(term)
            idfs = [self.lexical.idf(t) for t in tokens]
            if not idfs or not all(idfs):
                return 0
            idf = max(idfs)  # the rarest token bounds the term's frequency
        if idf == 0.0:
            return 0
        n = self.lexical.size
        # idf = ln(1 + (n - df + 0.5) / (df + 0.5)), solved for df
        return max(1, round((n + 1) / math.exp(idf) - 0.5))

    def known(self, term: str) -> bool:
        return self.passages_with(term) > 0

    def known_phrase(self, phrase: str) -> bool:
        """A quoted phrase as a user types it, without the quotation marks
        the text has inside it: "共建绿色一带一路" is 共建绿色“一带一路”."""
        phrase = compact(phrase)
        if self.known(phrase):
            return True
        # Whether the phrase splits where quotation marks may stand into known
        # pieces long enough to be phrases (any two characters are a known pair).
        ends = {0}
        for end in range(3, len(phrase) + 1):
            shortest = 2 if end == len(phrase) else _PHRASE_PIECE
            if any(end - start >= shortest and self.known(phrase[start:end]) for start in ends):
                ends.add(end)
        return len(phrase) in ends

    def generic(self, term: str) -> bool:
        return self.passages_with(term) > _GENERIC_SHARE * max(self.lexical.size, 1)


@lru_cache(maxsize=1)
def _pos_tokenizer() -> jieba.posseg.POSTokenizer:
    return jieba.posseg.POSTokenizer(segmenter())


def _part(folded: str) -> re.Match[str] | None:
    """Where a question names a numbered part of a document ("第四部分", "the final section")."""
    return _PART.search(folded) or _EN_PART.search(folded)


def _numeral(part: re.Match[str]) -> str:
    """The numeral of a named part ("第四部分" → "四"), or ``sections.LAST``."""
    named = part.group(1)
    if part.re is _PART:
        return named or sections.LAST
    return _EN_ORDINALS.get(named.lower(), sections.LAST)


def asks_plural(question: str) -> bool:
    """Whether an English question asks for things in the plural ("What
    safeguard measures close out the plan?"): a section's items answer it,
    though it need not be answered in several sentences otherwise."""
    return _PLURAL_EN.search(question) is not None


def place_within(text: str, start: int, end: int) -> bool:
    """Whether the place at ``text[start:end]`` is only part of a longer one
    jieba knows: 印度 in 印度尼西亚, 苏丹 in 南苏丹, 几内亚 in 巴布亚新几内亚."""
    tags = _pos_tokenizer().word_tag_tab
    if tags.get(text[start:end]) != "ns":
        return False
    longer = (text[max(0, start - k) : end + j] for k in range(5) for j in range(5) if j or k)
    return any(tags.get(word) == "ns" for word in longer)


def in_dictionary(word: str) -> bool:
    """Whether jieba's dictionary has ``word`` (疫苗), not only its segmenter's
    guess at an unknown stretch (方签 out of "哪几方签的")."""
    tokenizer = _pos_tokenizer().tokenizer
    tokenizer.check_initialized()
    return bool(tokenizer.FREQ.get(word))


def parts_of_speech(text: str) -> list[tuple[str, str, int]]:
    """(word, part of speech, start offset) for ``text``."""
    out, pos = [], 0
    for pair in _pos_tokenizer().cut(text):
        word, flag = pair.word, pair.flag
        at = text.find(word, pos)
        at = pos if at < 0 else at
        out.append((word, flag, at))
        pos = at + len(word)
    return out


def answer_type(text: str, lang: str) -> AnswerType:
    for kind, pattern in _ZH_TYPES if lang == "zh" else _EN_TYPES:
        if pattern.search(text):
            return kind
    return AnswerType.OTHER


def metadata_fields(text: str) -> tuple[MetadataField, ...]:
    """The particulars of a named document a question asks for, in the order
    the question asks them ("是哪几个部门联合印发的？具体哪天？")."""
    found = [(m.start(), name) for name, pattern in _METADATA if (m := pattern.search(text))]
    return tuple(name for _, name in sorted(found))


def _masked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with the spans replaced by spaces (offsets stay put)."""
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            chars[i] = " "
    return "".join(chars)


# Share of a title's character pairs a question must hold to name it loosely.
_LOOSE_TITLE = 0.7
# "the strategy paper", "this research paper": the kind word of an English alias.
_EN_DOCUMENT = re.compile(r"\b(?:the|this|that)\s+(?:[a-z]+\s+){0,2}?(paper|report|plan|opinion|study)\b")
# A year naming a document by when it appeared: "2017年的指导意见", "the 2022 opinion",
# "2022年的绿色发展意见" (words between that its title has).
_YEAR_DOCUMENT = re.compile(
    r"((?:19|20)\d{2})\s*年?\s*(?:的|那份|这份|那篇|这篇)?\s*([\u4e00-\u9fff]{0,6}?)\s*"
    r"(指导意见|意见|合作规划|规划|进展报告|报告|论文|文章|文件"
    r"|guiding opinions?|opinions?|cooperation plan|plan|progress report|report|paper)"
)


@lru_cache(maxsize=1 << 16)
def _title_pairs(form: str) -> tuple[str, ...]:
    """The character pairs of a Chinese title of 8 characters or more (none
    otherwise: an English title's letter pairs are in any long question)."""
    title = "".join(HAN_ONLY.findall(compact(form)))
    return tuple(title[i : i + 2] for i in range(len(title) - 1)) if len(title) >= 8 else ()


def _inside_other_name(folded: str, at: int, forms: frozenset[str]) -> bool:
    """Whether an English alias found at ``at`` ends another name: "the
    South-South climate cooperation plan" is not the cooperation plan, whose
    title has no "climate" (the alias follows a content word that none of the
    document's names has; "the", a year or a title word may stand there)."""
    before = re.search(r"([a-z][a-z'-]*)\s+$", folded[:at])
    if before is None or not folded[at : at + 1].isascii():
        return False
    word = before.group(1)
    return word not in ENGLISH_STOPWORDS and not any(word in form.split() for form in forms)


def _document_spans(
    folded: str, names: dict[str, frozenset[str]], years: dict[str, str]
) -> tuple[frozenset[str], list[tuple[int, int]]]:
    """The documents ``folded`` names (by title or alias, or by its year and
    kind) and where it names them."""
    docs, spans = set(), []
    for doc_id, forms in names.items():
        for form in forms:
            # str.find, not a regex per name: a library of thousands of documents
            # would compile thousands of patterns for every question.
            at = folded.find(form)
            while at >= 0 and form:
                if not _inside_other_name(folded, at, forms):
                    docs.add(doc_id)
                    spans.append((at, at + len(form)))
                at = folded.find(form, at + 1)
    asked = compact(folded)
    for doc_id, forms in names.items():
        if doc_id in docs:
            continue
        for form in forms:
            # A title named loosely ("关于共建一带一路绿色发展的意见" for
            # 《关于推进共建“一带一路”绿色发展的意见》): most of its pairs.
            pairs = _title_pairs(form)
            if pairs and sum(p in asked for p in pairs) >= _LOOSE_TITLE * len(pairs):
                docs.add(doc_id)
    for m in _EN_DOCUMENT.finditer(folded):
        head = m.group(1)
        fitting = [d for d, forms in names.items() if any(form.endswith(head) and " " in form for form in forms)]
        if len(fitting) == 1:
            docs.add(fitting[0])
            spans.append(m.span())
    for m in _YEAR_DOCUMENT.finditer(folded):
        year, between, word = m.groups()
        dated = [d for d, y in years.items() if y == year]
        if between:
            dated = [d for d in dated if any(between in compact(form) for form in names.get(d, ()))]
        fitting = [d for d in dated if any(word in form or form in word for form in names.get(d, ()))] or dated
        if len(fitting) == 1:
            docs.add(fitting[0])
            spans.append(m.span())
    return frozenset(docs), spans


def _merge_names(tokens: list[tuple[str, str, int]], terms: LibraryTerms) -> list[tuple[str, str, int]]:
    """Join what jieba split out of a name the library knows (卡 + 洛特 → 卡洛特,
    芹 + 苴 → 芹苴): adjacent pieces, one a single character, whose join occurs in
    the library. A join the library lacks is left apart (越南 + 芹 stays two)."""
    merged: list[tuple[str, str, int]] = []
    for word, flag, at in tokens:
        if merged:
            prev_word, prev_flag, prev_at = merged[-1]
            joined = prev_word + word
            adjacent = prev_at + len(prev_word) == at
            single = len(word) == 1 or len(prev_word) == 1
            pieces = all(f in _NAME_PIECE_TAGS for f in (flag, prev_flag))
            cjk = HAN.fullmatch(word[0]) and HAN.fullmatch(prev_word[-1])
            if adjacent and single and pieces and cjk and terms.known(joined):
                merged[-1] = (joined, "nz", prev_at)
                continue
        merged.append((word, flag, at))
    return merged


def _hyphenated_names(text: str, terms: LibraryTerms) -> list[tuple[str, int, int]]:
    """(name, start, end) of each programme or body named by a hyphenated pair
    and the nouns after it ("中国-东盟生态友好城市伙伴关系"), as long as the library
    has it: one name, which no piece of it stands for (中国 is every passage,
    东盟 many; the partnership is one table row of the cooperation plan)."""
    out = []
    tokens = parts_of_speech(text)
    for i, (word, _, _) in enumerate(tokens):
        if not (_HYPHEN.fullmatch(word) and 0 < i < len(tokens) - 1) or not HAN_ONLY.fullmatch(tokens[i - 1][0]):
            continue
        start = tokens[i - 1][2]
        ends = []
        for later, flag, later_at in tokens[i + 1 :]:
            # 合作 (a verbal noun to jieba) belongs to 环境合作中心.
            if flag not in _NAME_PIECE_TAGS | {"vn"} or flag == "x" or not HAN_ONLY.fullmatch(later):
                break
            ends.append(later_at + len(later))
        # The longest run the library has, the pair alone at least.
        for end in reversed(ends):
            name = text[start:end]
            if terms.known(name) and not terms.generic(name):
                out.append((name, start, end))
                break
    return out


def _wh_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Where the question words are: asked about, not constraints."""
    patterns = [p for _, p in (_ZH_TYPES if lang == "zh" else _EN_TYPES)] + [_ZH_QUESTION_WORDS]
    return [m.span() for p in patterns for m in p.finditer(text)]


def _zh_constraints(text: str, terms: LibraryTerms) -> tuple[list[Constraint], list[tuple[str, str, int]]]:
    """Hard constraints of a Chinese question (its document references already
    blanked out), and its remaining content words with their tags."""
    found: list[tuple[Constraint, int, int]] = []  # with where the question says it
    taken: list[tuple[int, int]] = []
    for m in _QUOTED.finditer(text):
        name = next(g for g in m.groups() if g).strip()
        # A title (《…》) or a long quoted name must be found; a short word in
        # quotation marks (“首发”) is the user's emphasis, read as a word.
        if name and (m.group(0).startswith("《") or len(name) > _EMPHASIS_CHARS):
            found.append((Constraint(name, ConstraintKind.QUOTED, (fold(name),), terms.known_phrase(name)), *m.span()))
            taken.append(m.span())
    for m in _ORDINAL.finditer(text):
        # "第四届高峰论坛" is not the 第三届 one: the ordinal must be there.
        forms = tuple(dict.fromkeys((m.group(0), *_ORDINAL_SYNONYMS.get(m.group(0), ()))))
        known = any(terms.known(f) for f in forms)
        found.append((Constraint(m.group(0), ConstraintKind.NUMBER, forms, known), *m.span()))
        taken.append(m.span())
    for name, start, end in _hyphenated_names(text, terms):
        found.append((Constraint(name, ConstraintKind.NAME, (fold(name),), True), start, end))
        taken.append((start, end))
    for m in _NUMBER_WITH_UNIT.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        found.append((Constraint(m.group(0), ConstraintKind.NUMBER, (m.group(1),), True), *m.span()))
        taken.append(m.span())
    for m in _YEAR.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        year = Constraint(m.group(0).strip(), ConstraintKind.YEAR, (m.group(1),), terms.known(m.group(1)))
        found.append((year, *m.span()))
        taken.append(m.span())
    rest = _masked(text, taken + _wh_spans(text, "zh"))
    words: list[tuple[str, str, int]] = []
    nouns: list[str] = []
    unknown: list[str] = []
    for word, flag, at in _merge_names(parts_of_speech(rest), terms):
        word = word.strip()
        if not word or not re.search(r"[\w]", word) or word in STOPWORDS or word in _DOCUMENT_WORDS:
            continue
        if word in _ASPECT_WORDS or _after_which(text, at):
            words.append((word, flag, at))  # what is asked about, not a constraint
            continue
        name = flag in _NAME_TAGS or (flag == "x" and _PROJECT_NAME.search(word) is not None)
        # "之前还发过什么宣言" asks for a declaration, it names none (still a word of the question).
        name = name and not _after_what(text, at)
        if name and len(word) >= 2 and word not in _GENERIC_NAMES and not terms.generic(word):
            forms = _name_forms(word, terms)
            known = any(terms.known(f) for f in forms)
            # jieba tags a short form "j", or a short organisation name "nt" (亚投行, 国开行): the
            # documents may only spell it out, so the evidence decides, not the vocabulary.
            short = not known and (flag == "j" or flag == "nt") and 3 <= len(word) <= _SHORT_FORM_CHARS
            constraint = Constraint(word, ConstraintKind.NAME, forms, known or short, abbreviation=short)
            found.append((constraint, at, at + len(word)))
            nouns.append(word)
            continue
        if flag in _NOUN_TAGS and len(word) >= 2:
            nouns.append(word)
            if not terms.known(word) and not _any_pair_known(word, terms):
                unknown.append(word)
        words.append((word, flag, at))
    # A question whose things are mostly unknown to the library (明天北京的天气)
    # is about something else. One unknown word among known ones (态度, 亮点) is
    # a paraphrase, not grounds to abstain.
    constraints = _grouped(text, found)
    if unknown and 2 * len(unknown) >= len(nouns):
        constraints.extend(Constraint(w, ConstraintKind.TERM, (fold(w),), False) for w in unknown)
    return constraints, words


def _after_which(text: str, at: int) -> bool:
    """Whether the word at ``at`` follows 哪家/哪个/哪些 (blanked as a question
    word): "哪家中资银行" asks for a bank, it does not name one."""
    return bool(re.search(r"哪[个些家位几]?个?\s*$", text[max(0, at - 3) : at]))


def _after_what(text: str, at: int) -> bool:
    """Whether the word at ``at`` follows 什么: "什么宣言" asks for a declaration."""
    return bool(re.search(r"什么\s*$", text[max(0, at - 3) : at]))


def _grouped(text: str, found: list[tuple[Constraint, int, int]]) -> list[Constraint]:
    """The constraints, those the question coordinates put in one group:
    names joined by 和/与/、 ("柬埔寨、老挝"), or each in a clause of its own
    ("X是什么时候成立的？Y呢？"). One of a group is enough for a sentence; the
    answer should hold them all. A name no document has stays hard."""
    found = sorted(found, key=lambda f: f[1])
    coordinated = (ConstraintKind.NAME, ConstraintKind.QUOTED, ConstraintKind.YEAR)
    names = [f for f in found if f[0].kind in coordinated and f[0].in_library]
    groups: dict[int, int] = {}  # index into names -> group
    joined: list[int] = []  # names hyphenated to the one before: one name ("澜沧江-湄公河")
    for i in range(1, len(names)):
        (_, _, prev_end), (_, start, _) = names[i - 1], names[i]
        between = text[prev_end:start]
        if _HYPHEN.fullmatch(between):
            joined.append(i)
        elif _COORDINATION.fullmatch(between.strip()) or _CLAUSE_BREAK.search(between):
            group = groups.setdefault(i - 1, i - 1)
            groups[i] = group
    # "澜沧江-湄公河环境合作中心是什么时候成立的？中非环境合作中心呢？": the pair is one
    # alternative, so both halves go with the group either half is in.
    for i in reversed(joined):
        pair = groups.get(i, groups.get(i - 1))
        if pair is not None:
            groups[i - 1] = groups[i] = pair
    by_constraint = {id(names[i][0]): g for i, g in groups.items()}
    return [replace(c, group=by_constraint.get(id(c))) for c, _, _ in found]


def _name_forms(name: str, terms: LibraryTerms) -> tuple[str, ...]:
    """A Chinese name and the other Chinese forms the dictionary glosses alike
    that the library uses (印尼 → 印度尼西亚)."""
    forms = [fold(name)]
    for english in chinese_glosses(name):
        forms.extend(fold(c) for c in translations(english) if len(c) >= 2 and terms.known(c))
    return tuple(dict.fromkeys(forms))


def _any_pair_known(word: str, terms: LibraryTerms) -> bool:
    """Whether any character pair of ``word`` occurs: 电动车 shares 电动 with
    电动汽车, so it is a paraphrase, not an unknown thing."""
    if not HAN.search(word):
        return terms.known(word)
    return any(terms.known(word[i : i + 2]) for i in range(len(word) - 1))


def _dictionary_form(word: str) -> str:
    """The form of an English name the dictionary knows ("Tanzania" for
    "Tanzanian"): how an abstention names it."""
    lemma = next((lemma for lemma in english_lemmas(fold(word)) if translations(lemma)), None)
    return word if lemma is None or lemma == fold(word) else lemma.title()


def _en_forms(word: str, terms: LibraryTerms, proper: bool = False) -> tuple[tuple[str, ...], bool, bool]:
    """(forms to look for, whether the library has any, whether the word has a
    dictionary translation at all) for an English word or name; ``proper``:
    only translations of the dictionary's proper nouns (Kenya, not kenya's
    homographs)."""
    folded = fold(word)
    forms = [folded] if terms.known(folded) else []
    found_translation = False
    for lemma in english_lemmas(folded):
        chinese = [c for c in translations(lemma, proper=proper) if len(c) >= 2]
        found_translation = found_translation or bool(chinese)
        # A one-character gloss (气 for "weather") matches anything.
        forms.extend(c for c in chinese if terms.known(c))
    if not forms and "-" in folded:
        abbreviations = _compound_abbreviations(folded)
        forms.extend(a for a in abbreviations if terms.known(a))
        found_translation = found_translation or bool(abbreviations)
    forms = list(dict.fromkeys(forms))
    return tuple(forms), bool(forms), found_translation


def _compound_abbreviations(compound: str) -> list[str]:
    """The Chinese short forms of a hyphenated pair of places, first character
    of each ("Mombasa-Nairobi" → 蒙内, as in 蒙内铁路; "China-Laos" → 中老)."""
    heads = []
    for part in compound.split("-"):
        chinese = [c for lemma in english_lemmas(part) for c in translations(lemma, proper=True) if len(c) >= 2]
        if not chinese:
            return []
        heads.append(list(dict.fromkeys(c[0] for c in chinese[:3])))
    out = [""]
    for options in heads:
        out = [prefix + head for prefix in out for head in options]
    return out


def _en_constraints(text: str, terms: LibraryTerms) -> tuple[list[Constraint], list[tuple[str, str, int]]]:
    constraints: list[Constraint] = []
    taken: list[tuple[int, int]] = []
    for m in _QUOTED.finditer(text):
        name = next(g for g in m.groups() if g).strip()
        # An English phrase in quotes is the user's rendering of Chinese text
        # ("trade connectivity" is 贸易畅通 in the plan): its words are read as
        # the question's. A Chinese one is a name to find.
        if HAN.search(name):
            constraints.append(Constraint(name, ConstraintKind.QUOTED, (fold(name),), terms.known_phrase(name)))
            taken.append(m.span())
    for m in _YEAR.finditer(text):
        constraints.append(Constraint(m.group(1), ConstraintKind.YEAR, (m.group(1),), terms.known(m.group(1))))
    for m in _EN_PERCENT.finditer(text):
        # "Given that the region holds under 10% of the world's population": the text says 70%.
        constraints.append(Constraint(m.group(0), ConstraintKind.NUMBER, (f"{m.group(1)}%", f"{m.group(1)}％"), True))
        taken.append(m.span())
    for m in _EN_ORDINAL.finditer(text):
        # "the second ... Conference" is 第二届: the ordinal must be there, as in Chinese.
        numeral = _EN_ORDINALS[m.group(1).lower()]
        forms = tuple(f"第{numeral}{u}" for u in _ORDINAL_UNITS)
        forms += tuple(f"首{u}" for u in _ORDINAL_UNITS) if numeral == "一" else ()
        constraints.append(Constraint(m.group(1), ConstraintKind.NUMBER, forms, any(terms.known(f) for f in forms)))
        taken.append(m.span(1))
        taken.append(m.span())
    words: list[tuple[str, str, int]] = []
    first_word = _EN_WORD.search(text)
    # Capitalised words the library has that name nothing to check ("Green
    # Investment Principles"): what the question is about, counted below
    # against the words no document has.
    known_capitals = 0
    for m in _EN_NAME_RUN.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        taken.append(m.span())
        capitals = [w for w in re.split(r"\s+", re.sub(r"[-–—]", "-", m.group(0))) if w]
        if first_word and m.start() == first_word.start() and not capitals[0].isupper():
            capitals = capitals[1:]  # a capital that starts the question says nothing
        # A name no dictionary has as a whole ("BRI International Green
        # Development Coalition"): the evidence must at least name its kind
        # (联盟), or it is about another body. A possessive ends a name.
        whole = re.split(r"(?<=['’])\s", " ".join(capitals))[0]
        if len(whole.split()) >= 2 and not translations(whole) and (head := _head_forms(whole, terms)):
            constraints.append(Constraint(whole.rstrip("'’"), ConstraintKind.NAME, head, True, kind_only=True))
        for name, single in _name_runs(capitals):
            if single and (name.lower() in ENGLISH_STOPWORDS or name.lower() in _EN_DOCUMENT_WORDS):
                continue
            if single and name.lower() in _EN_COMMON_CAPITALS:
                continue
            # A compound ("China-Europe", "Mombasa-Nairobi") or a multi-word
            # name ("Abu Dhabi", "Silk Road Fund") is one name: the dictionary's
            # word for it, or nothing to check.
            forms, known, translatable = _en_forms(name, terms, proper=single)
            # As a common word too: "Green" is known, "Karot" is no word at all.
            _, known_as_word, translatable_as_word = _en_forms(name, terms)
            named = not single or _is_place_or_name(name)
            if known and named and not any(terms.generic(f) for f in forms):
                constraints.append(Constraint(_dictionary_form(name), ConstraintKind.NAME, forms, True))
            elif not known and translatable and named:
                # A place or a name the dictionary knows that no document uses (Tanzania).
                constraints.append(Constraint(_dictionary_form(name), ConstraintKind.NAME, (fold(name),), False))
            elif single and _transliterable(name) and not (known_as_word or translatable_as_word):
                # A foreign name no dictionary has: the evidence must hold its
                # transliteration (Karot → 卡洛特), which only the evidence can tell.
                constraints.append(Constraint(name, ConstraintKind.NAME, (), True, transliterated=True))
            elif known_as_word:
                known_capitals += len(name.split())
    rest = _masked(text, taken + _wh_spans(text, "en"))
    tokens = [m for m in _EN_WORD.finditer(rest) if fold(m.group(0)) not in _EN_DOCUMENT_WORDS]
    units = 0
    absent: list[tuple[str, int]] = []
    i = 0
    while i < len(tokens):
        # The longest run of up to three words the dictionary knows ("wind farm" → 风场).
        n = 1
        for n in (3, 2, 1):
            run = tokens[i : i + n]
            phrase = " ".join(fold(m.group(0)).strip("'’-") for m in run)
            if len(run) < n or (n == 1 and (len(phrase) < 3 or phrase in ENGLISH_STOPWORDS)):
                continue
            forms, known, translatable = _en_forms(phrase, terms)
            if n > 1 and not known:
                continue
            units += 1
            if not known and translatable and len(phrase) >= 4:
                absent.append((run[0].group(0), run[0].start()))
            else:
                words.append((" ".join(m.group(0) for m in run), "en", run[0].start()))
            break
        i += n
    # As in Chinese: mostly unknown things make a question about something else.
    if absent and 2 * len(absent) >= units + known_capitals + len(constraints):
        constraints.extend(Constraint(w, ConstraintKind.TERM, (fold(w),), False) for w, _ in absent)
    else:
        words.extend((w, "en", at) for w, at in absent)
    return constraints, words


def _head_forms(name: str, terms: LibraryTerms) -> tuple[str, ...]:
    """The library's Chinese words for the last word of a multi-word name
    (Coalition → 联盟, Fund → 基金), unless that word says nothing of what the
    name is (Road, Initiative) or the name is a hyphenated pair of places."""
    words = name.split()
    head = words[-1].lower().rstrip("'’").removesuffix("'s").removesuffix("’s")
    # A place (Central Asia) or a hyphenated pair names where, not what kind of thing.
    if len(words) < 2 or head in _EN_COMMON_CAPITALS or "-" in head or _is_place_or_name(head):
        return ()
    forms = [c for lemma in english_lemmas(head) for c in translations(lemma) if len(c) >= 2 and terms.known(c)]
    return tuple(dict.fromkeys(fold(c) for c in forms))


def _transliterable(name: str) -> bool:
    """A capitalised word of letters long enough to be matched by its sound:
    not an acronym (ADB), not a short word that sounds like too much."""
    return re.fullmatch(r"[A-Z][a-z]{3,}", name) is not None


def _name_runs(words: list[str]) -> list[tuple[str, bool]]:
    """The names in a run of capitalised words, longest first from the left:
    (name, whether it is one word). A run the dictionary has no entry for is
    read word by word; a hyphenated compound is never split."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            phrase = " ".join(words[i:j])
            if j - i == 1 or translations(phrase):
                out.append((phrase, j - i == 1 and "-" not in phrase))
                i = j
                break
    return out


def _is_place_or_name(name: str) -> bool:
    """Whether the dictionary's Chinese for an English name is a place or a
    person's name (jieba tags it so): what a question constrains its answer to."""
    chinese = [c for lemma in english_lemmas(fold(name)) for c in translations(lemma, proper=True) if len(c) >= 2]
    return any(flag in _NAME_TAGS for c in chinese[:3] for _, flag, _ in parts_of_speech(c)[:1])


def _split_asks(text: str, lang: str) -> list[tuple[int, int, AnswerType, re.Match[str]]]:
    """(clause start, clause end, answer type, the question word's match) of
    each clause that asks something, in order."""
    # Chinese: also an enumeration comma before another question word ("每年能省多少煤、减多少二氧化碳").
    boundary = re.compile(
        r"[，,。？?；;]|、(?=[^、，,。？?；;]{0,6}?(?:多少|哪|什么|几))"
        if lang == "zh"
        else r"[?;]|,?\s+and\s+(?=(?:when|how|what|where|who|which|why)\b)",
        re.I,
    )
    cuts = [0, *(m.end() for m in boundary.finditer(text)), len(text)]
    out = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        clause = text[start:end]
        for kind, pattern in _ZH_TYPES if lang == "zh" else _EN_TYPES:
            m = pattern.search(clause)
            if m:
                out.append((start, end, kind, m))
                break
    return out


def _ask(
    kind: AnswerType, clause: str, m: re.Match[str], offset: int, words: list[tuple[str, str, int]], terms: LibraryTerms
) -> Ask:
    """The ask of one clause: its attribute words around the question word."""
    start, end = offset + m.start(), offset + m.end()
    clause_end = offset + len(clause)
    counted: tuple[str, ...] = ()
    kind_of = ""
    usable = [(w, f, at) for w, f, at in words if len(w) >= 2 and w not in _GENERIC_ATTRIBUTES and w not in _ASPECT_WORDS]
    after = [w for w, f, at in usable if end <= at < clause_end and f not in ("m", "q", "r")]
    before = [w for w, f, at in usable if offset <= at < start and f not in ("m", "q", "r")]
    if kind is AnswerType.DATE:
        # The event whose date is asked follows the question word: "哪一年开始运营的"
        # → 运营. A verb before it belongs to the subject ("备忘录覆盖哪几年"). What
        # another question word asks for is no event ("哪年在什么场合发布的": 场合).
        after = [w for w in after if not _after_what(clause, clause.find(w)) and not _after_which(clause, clause.find(w))]
        attribute = after or before[-2:]
        # With nothing after it, a verbal noun just before it is the event ("中期评估定在哪一年").
        event = after or [w for w, f, at in usable if offset <= at < start and f == "vn"][-1:]
        bound_to: tuple[str, ...] = tuple(w for w in event if terms.known(w) or _any_pair_known(w, terms))
    elif kind is AnswerType.FIGURE:
        # What is measured, on either side: "运营成本有多大影响", "多少辆纯电动公交车",
        # and a one-character noun right after the question word: "省多少煤".
        single = [w for w, f, at in words if f == "n" and len(w) == 1 and end <= at <= end + 1 and w not in _GENERIC_ATTRIBUTES]
        attribute = before[-2:] + (after[:3] or single)
        bound_to = tuple(w for w in attribute if terms.known(w) or _any_pair_known(w, terms) or w in single)
        run = _counted(words, end)
        # A compound the documents have is counted whole: "联合创新中心", whose 联合,
        # 创新 and 中心 are each too common to bind anything.
        whole = "".join(run)
        if len(run) >= 2 and terms.known(whole):
            counted = (whole,)
        else:
            counted = tuple(w for w in run if len(w) >= 2 and not terms.generic(w))
    elif kind in (AnswerType.REASON, AnswerType.DEFINITION, AnswerType.YES_NO):
        attribute, bound_to = after or before[-2:], ()
    elif kind is AnswerType.PLACE:
        # The type of the answer binds it enough: a place.
        attribute, bound_to = after or before[-2:], ()
    elif kind in (AnswerType.ORGANISATION, AnswerType.PERSON):
        # A body or a person is named in most sentences: the one asked for is the one
        # that did the asked thing ("卡洛特水电站的贷款是哪家银行提供的" → 贷款), so a
        # specific word of the clause binds it (``analyze`` drops the subject's own head).
        attribute = after or before[-2:]
        bound_to = tuple(w for w in (*before[-2:], *after) if _specific(w, terms))
        asked = m.group(0).lower()
        kind_of = next((k for k, en in _NAMED_KINDS.items() if asked.endswith(k) or en in asked), "")
    elif kind is AnswerType.OTHER and _MANNER.search(clause):
        # "采用什么方式招标": the manner of an act is asked, so the act must be there.
        attribute = after or before[-2:]
        bound_to = tuple(w for w in after if _specific(w, terms) or not terms.known(w))
    else:
        attribute = after or before[-2:]
        # "哪些交通工具": a rare word after the question word names what is
        # listed; "哪些措施" does not, nor the topic before it ("人才队伍建设方面有哪些要求").
        # A noun no passage has even a part of ("要打哪些疫苗") names a list no document gives.
        unheard = {
            w
            for w, f, at in usable
            if end <= at < clause_end and f in _NOUN_TAGS and in_dictionary(w) and not _any_pair_known(w, terms)
        }
        bound_to = tuple(w for w in after if _specific(w, terms) or w in unheard)
    # A unit family is asked only with a figure or a date: "哪些投资项目" asks for no amount.
    quantities = asked_quantities(clause) if kind in (AnswerType.FIGURE, AnswerType.DATE, AnswerType.OTHER) else frozenset()
    return Ask(kind, quantities, tuple(dict.fromkeys(attribute)), tuple(dict.fromkeys(bound_to)), counted, kind_of)


def _counted(words: list[tuple[str, str, int]], end: int) -> list[str]:
    """The noun phrase right after a figure's question word and its
    classifier: "多少辆纯电动公交车" → 纯电动, 公交车; "几趟客运列车" → 客运, 列车;
    "多少个联合创新中心" → 联合, 创新, 中心 (verbs inside a compound noun, none
    after it: "多少国家参与" → 国家)."""
    out: list[tuple[str, str]] = []
    expected = end
    for word, flag, at in sorted(words, key=lambda w: w[2]):
        if at < end:
            continue
        if at != expected:
            break
        expected = at + len(word)
        if flag in ("m", "q") and not out:
            continue  # the classifier (辆, 趟)
        if not (flag.startswith("n") or flag in ("vn", "v", "b", "j", "l")):
            break
        out.append((word, flag))
    while out and out[-1][1] == "v":
        out.pop()
    return [word for word, _ in out]


def _clause_bound(
    constraints: list[Constraint], text: str, split: list[tuple[int, int, AnswerType, re.Match[str]]]
) -> list[Constraint]:
    """Names that only a later ask's clause gives, after its question word,
    bound to that ask: they say what it asks about, not what the question is about."""
    out = []
    for c in constraints:
        at = text.find(c.text)
        clause = next(
            (i for i, (start, end, _, m) in enumerate(split) if i and start + m.end() <= at < end),
            None,
        )
        ok = c.kind is ConstraintKind.NAME and c.group is None and c.in_library and text.count(c.text) == 1
        out.append(replace(c, ask=clause) if ok and clause is not None else c)
    return out


# Words of the noun phrase after "how many" read for what is counted.
_MEASURED_WORDS = 3


def _en_measured(ask: Ask, start: int, words: list[tuple[str, str, int]], terms: LibraryTerms) -> Ask:
    """An English figure ask bound to what it counts: the words right after
    "how many" (at ``start``: "how many freight trains" → 列车), in the forms the library has."""
    # The noun phrase right after it, head (last word) first: "how many freight trains" → 列车;
    # nothing past a break ("signatories and supporters … have now": not 'now').
    run: list[str] = []
    expected = None
    for word, _, at in sorted(words, key=lambda x: x[2]):
        if at < start:
            continue
        if expected is not None and at > expected + 1:
            break
        run.append(word)
        expected = at + len(word)
    for word in reversed(run[:_MEASURED_WORDS]):
        # Kinds of it too: the dictionary's "bus" is 汽车, the text's 公交车 ("town bus").
        named = [*_en_forms(word, terms)[0], *(k for k in kinds_of(word) if len(k) >= 2 and terms.known(k))]
        forms = [f for f in named if HAN.search(f) and not terms.generic(f)]
        if forms:
            return replace(ask, attribute=(word,), bound_to=tuple(dict.fromkeys(forms)))
    return ask


def _specific(word: str, terms: LibraryTerms) -> bool:
    """A word the library has and that narrows it: not in most passages, not a class of things."""
    return terms.known(word) and not terms.generic(word) and word not in _GENERIC_CLASSES


def _without_subject_heads(ask: Ask, text: str, constraints: Sequence[Constraint]) -> Ask:
    """``ask`` not bound to the head of a name the question gives ("卡洛特水电站":
    水电站 is the subject, already a constraint)."""
    heads = {w for w in ask.bound_to for c in constraints if c.kind is ConstraintKind.NAME and c.text + w in text}
    return replace(ask, bound_to=tuple(w for w in ask.bound_to if w not in heads)) if heads else ask


def _other_title(question: str, document_names: dict[str, frozenset[str]]) -> bool:
    """Whether the question quotes a title that is no library document's: "指导意见要求落实的
    《对外投资合作环境保护指南》是谁发布的？" asks who issued the guide, not the opinion."""
    titles = (fold(m.group(1)) for m in _QUOTED.finditer(question) if m.group(1))
    return any(not any(t in form or form in t for forms in document_names.values() for form in forms) for t in titles)


def analyze(
    question: str, terms: LibraryTerms, document_names: dict[str, frozenset[str]], document_years: dict[str, str]
) -> QuestionAnalysis:
    """``document_names``: each document's title and aliases, folded;
    ``document_years``: the year each dated document appeared."""
    lang = question_language(question)
    folded = fold(question)
    documents, spans = _document_spans(folded, document_names, document_years)
    # The part of a named document is where to look, like the document: not what is asked about.
    part = _part(folded) if documents else None
    if part is not None:
        spans = [*spans, part.span()]
    rest = _masked(folded, spans)
    if lang == "zh":
        constraints, words = _zh_constraints(rest, terms)
    else:
        constraints, words = _en_constraints(_masked(question, spans), terms)
    source = rest if lang == "zh" else _masked(question, spans)
    split = _split_asks(source, lang)
    constraints = _clause_bound(constraints, source, split)
    asks = [_ask(kind, source[start:end], m, start, words if lang == "zh" else [], terms) for start, end, kind, m in split] or [
        _ask(AnswerType.OTHER, source, manner, 0, words if lang == "zh" else [], terms)
        if lang == "zh" and (manner := _MANNER.search(source))
        else Ask(AnswerType.OTHER, asked_quantities(question), (), ())
    ]
    asks = [_without_subject_heads(ask, source, constraints) for ask in asks]
    if lang == "en" and split:
        asks = [
            _en_measured(ask, start + m.end(), words, terms) if m.group(0).lower().startswith("how many") else ask
            for ask, (start, _, _, m) in zip(asks, split, strict=True)
        ]
    attribute = {w for ask in asks for w in ask.attribute}
    other_title = _other_title(question, document_names)
    # A document named to say which thing is meant ("合作规划倡议成立的那个联盟，后来什么时候
    # 启动了", "指导意见要求落实的《指南》是谁发布的") does not bound the answer: what happened
    # later, or who issued another title, is told by other documents.
    if _LATER.search(question) or (other_title and metadata_fields(question)):
        documents = frozenset()
    several = bool((_SEVERAL_ZH if lang == "zh" else _SEVERAL_EN).search(question)) or len(asks) > 1
    return QuestionAnalysis(
        text=question,
        lang=lang,
        asks=tuple(asks),
        constraints=tuple(constraints),
        focus=tuple(dict.fromkeys(w for w, _, _ in words if w not in attribute)),
        documents=documents,
        several=several or asks[0].answer_type is AnswerType.LIST,
        compare=bool(_COMPARE.search(question)) and (len(documents) >= 2 or several),
        metadata=metadata_fields(question) if documents and not other_title else (),
        part=_numeral(part) if part is not None else None,
        denied=tuple(m.group(1) for m in _DENIED.finditer(question)) if lang == "zh" else (),
    )


def within(analysis: QuestionAnalysis, doc_ids: frozenset[str]) -> QuestionAnalysis:
    """The analysis of a question asked of chosen documents only: the user's
    choice decides which document is meant. "指导意见在人才队伍建设方面有哪些要求？"
    asked of the 2022 opinion alone is about that opinion."""
    documents = analysis.documents & doc_ids
    return replace(analysis, documents=documents, metadata=analysis.metadata if documents else ())
