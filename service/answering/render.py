"""How an answer reads: it leads with the answer, each quote followed by its
marker ``[n]``; the document and section go in the citation, not in the text,
and no heading is repeated. Parts from several documents are each introduced
by the document's title. Lists are one item a line.

An English question gets an English lead built only from what is certain —
the document's English title (manifest ``title_en``), figures with their units
converted where the conversion is exact (1.1亿度 = 110 million kWh), and the
Chinese form of names the question used (Montenegro = 黑山) — followed by the
cited Chinese quote. Nothing is translated freely: what cannot be rendered
stays as the quote.

An abstention says what the documents do and do not contain."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from silkqa.index.language import compact
from silkqa.index.store.transliteration import transliterations_in
from silkqa.index.store.types import IndexedDocument
from silkqa.service.answering.answerability import Gap, Missing, present
from silkqa.service.answering.types import Citation, ConstraintKind, Coverage, CoverageStatus, Part, QuestionAnalysis

# --- figures, exactly -----------------------------------------------------------

_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*(万亿|亿|万)?\s*(千瓦时|度|千瓦|兆瓦|吨|公里|千米|美元|公顷|平方公里|元)")
_SCALE = {"": Decimal(1), "万": Decimal(10_000), "亿": Decimal(100_000_000), "万亿": Decimal(1_000_000_000_000)}
_UNIT = {
    "千瓦时": "kWh",
    "度": "kWh",
    "千瓦": "kW",
    "兆瓦": "MW",
    "吨": "tonnes",
    "公里": "km",
    "千米": "km",
    "美元": "US dollars",
    "公顷": "hectares",
    "平方公里": "km²",
    "元": "yuan",
}
_WORDS = ((Decimal(1_000_000_000_000), "trillion"), (Decimal(1_000_000_000), "billion"), (Decimal(1_000_000), "million"))


def _english_number(value: Decimal) -> str:
    """110000000 → "110 million"; 720000 → "720,000"."""
    for size, word in _WORDS:
        if value >= size:
            scaled = (value / size).normalize()
            return f"{scaled:f} {word}"
    return f"{value.normalize():,f}"


def english_figures(quote: str) -> list[str]:
    """Each figure of ``quote`` with a 万/亿 scale, in English: "1.1亿度 = 110
    million kWh". Figures without a scale read the same in both languages."""
    out = []
    for m in _FIGURE.finditer(quote):
        number, scale, unit = m.groups()
        if not scale:
            continue
        value = Decimal(number) * _SCALE[scale]
        out.append(f"{m.group(0).replace(' ', '')} = {_english_number(value)} {_UNIT[unit]}")
    return list(dict.fromkeys(out))


def _readable(quote: str) -> str:
    """A quote as the answer shows it: table cells and rows read as a list.
    The citation keeps the exact text."""
    if "\t" in quote:
        return quote.replace("\t", " ").replace("\n", "；")
    return " ".join(line.strip() for line in quote.split("\n")) if "\n" in quote else quote


_YEAR_TITLE = re.compile(r"^(\d{4})\s*年$")
_STARTS_WITH_MONTH = re.compile(r"^\s*\d{1,2}\s*月")


def year_of_section(section: Sequence[str], quote: str) -> str | None:
    """The year a chronology entry stands under ("2018年" for "11月 30日，…"
    in "附件 › 2018年"): the entry says only the month and day."""
    if not section or not _STARTS_WITH_MONTH.match(quote):
        return None
    m = _YEAR_TITLE.match(section[-1].strip())
    return m.group(1) if m else None


def _quotes(citations: Sequence[Citation], listed: bool, lang: str) -> str:
    pieces: list[str] = []
    for c in citations:
        if c.label and pieces:  # the cell a table row inherits, after the row
            pieces[-1] += f"（{c.label}：{c.quote}[{c.marker}]）"
        else:
            # The year of a chronology entry comes from its section, which the citation shows.
            year = year_of_section(c.section, c.quote)
            dated = f"{year}年" if year and lang == "zh" else f"({year}) " if year else ""
            pieces.append(f"{dated}{_readable(c.quote)}[{c.marker}]")
    if listed:
        return "\n".join(f"{n}. {p}" for n, p in enumerate(pieces, start=1))
    return ("" if lang == "zh" else " ").join(pieces)


def _lead(analysis: QuestionAnalysis, doc: IndexedDocument, citations: Sequence[Citation]) -> str:
    """The English lead of one document's part: its English title, exact
    figure conversions, and the Chinese forms of the question's names."""
    title = doc.meta.title_en or f"《{doc.meta.title}》"
    quoted = compact("".join(c.quote for c in citations))
    notes = [f for c in citations for f in english_figures(c.quote)]
    for constraint in analysis.constraints:
        if constraint.kind is ConstraintKind.NAME and not constraint.kind_only and re.search(r"[A-Za-z]", constraint.text):
            if constraint.transliterated:
                forms = transliterations_in(constraint.text, quoted)
            else:
                forms = [f for f in constraint.forms if not re.search(r"[A-Za-z]", f) and compact(f) in quoted]
            if forms:
                notes.append(f"{constraint.text} = {forms[0]}")
    return f"From the {title}" + (f" ({'; '.join(dict.fromkeys(notes))})" if notes else "") + ":"


def render(
    analysis: QuestionAnalysis,
    parts: Sequence[Part],
    cited: Sequence[Sequence[Citation]],
    documents: Mapping[str, IndexedDocument],
    coverage: Coverage,
) -> str:
    lang = analysis.lang
    several_documents = len({p.about or p.hit.chunk.doc_id for p in parts}) > 1
    lines: list[str] = []
    # An English answer leads each run of parts from one document with one lead.
    runs: list[tuple[str, list[tuple[Part, Sequence[Citation]]]]] = []
    for part, citations in zip(parts, cited, strict=True):
        about = part.about or part.hit.chunk.doc_id
        if lang == "en" and runs and runs[-1][0] == about and not part.value:
            runs[-1][1].append((part, citations))
        else:
            runs.append((about, [(part, citations)]))
    for about, members in runs:
        bodies = []
        for part, citations in members:
            body = _quotes(citations, part.listed, lang)
            bodies.append(f"{part.value}{'。' if lang == 'zh' else '. '}{body}" if part.value else body)
        body = "\n".join(bodies)
        if lang == "en":
            lead = _lead(analysis, documents[about], [c for _, citations in members for c in citations])
            lines.append(f"{lead}\n{body}")
        elif several_documents or members[0][0].about:
            lines.append(f"《{documents[about].meta.title}》：{body}")
        else:
            lines.append(body)
    if coverage.status is CoverageStatus.PARTIAL:
        lines.append(coverage.note or partial_note(lang, coverage.missing))
    return "\n".join(lines)


def partial_note(lang: str, missing: Sequence[str]) -> str:
    """The sentence a partial answer ends with, naming what the documents lack."""
    if lang == "zh":
        return f"（文件未涉及：{'、'.join(missing)}。）"
    return f"(Not covered by the documents: {', '.join(missing)}.)"


# --- abstentions ----------------------------------------------------------------

_SHORT_QUOTE = 80


def _short(text: str) -> str:
    text = re.sub(r"\s+", "", text) if re.search(r"[\u4e00-\u9fff]", text) else text.strip()
    return text if len(text) <= _SHORT_QUOTE else text[:_SHORT_QUOTE] + "……"


def abstention_reason(
    analysis: QuestionAnalysis,
    missing: Sequence[Missing],
    nearest: str | None,
    elsewhere: tuple[str, str] | None,
    named_titles: Sequence[str],
) -> str:
    """What the documents do and do not contain, in the question's language.

    ``nearest``: the best-matching sentence (what they do say); ``elsewhere``:
    (title, sentence) of another document that answers when the named one does not."""
    zh = analysis.lang == "zh"
    absent = [m.what for m in missing if m.gap is Gap.ABSENT]
    not_with = [m.what for m in missing if m.gap is Gap.NOT_WITH]
    detail = [m.what for m in missing if m.gap is Gap.DETAIL]
    join = "、".join if zh else ", ".join
    if named_titles and elsewhere is not None:
        named = "、".join(f"《{t}》" for t in named_titles)
        if zh:
            return f"{named}没有涉及这一内容；《{elsewhere[0]}》提到：“{_short(elsewhere[1])}”"
        return f"{named} does not cover this; 《{elsewhere[0]}》 says: “{_short(elsewhere[1])}”."
    if absent and nearest and not any(c.in_library and present(c, compact(nearest)) for c in analysis.constraints):
        # The nearest sentence shares nothing the question names: quoting it
        # ("火星基地的预算" → a sentence on technology bases) says nothing.
        nearest = None
    said = f"“{_short(nearest)}”" if nearest else None
    clauses: list[str] = []
    contradicted = [m.what for m in missing if m.gap is Gap.CONTRADICTED]
    if said and contradicted:
        # The question takes for not done what the documents say was done.
        done = join(contradicted)
        clauses.append(
            f"文件提到：{said}，与问题所说的“没有{done}”不符"
            if zh
            else f"the documents say {said}, which contradicts the question's premise about {done}"
        )
    elif said and (absent or not_with or detail):
        # What the documents do say, then what they lack: "文件提到：“蒙内铁路全长
        # 471公里，连接…内罗毕和…蒙巴萨港…”，但没有提到坦桑尼亚".
        unnamed = absent + not_with
        if zh:
            clause = f"文件提到：{said}"
            if unnamed:
                clause += f"，但没有提到{join(unnamed)}"
            if detail:
                clause += f"{'，也' if unnamed else '，但'}没有说明{join(detail)}"
        else:
            clause = f"the documents say {said}"
            if unnamed:
                clause += f", but do not mention {join(unnamed)}"
            if detail:
                clause += f"{' or' if unnamed else ', but do not give'} {join(detail)}"
        clauses.append(clause)
    elif absent:
        clauses.append(f"文件中没有提到{join(absent)}" if zh else f"the documents do not mention {join(absent)}")
    if not clauses:
        if zh:
            clauses.append("所提供的文档中没有找到能够回答这个问题的内容")
        else:
            clauses.append("the documents do not cover this question")
        # No sentence is close enough to quote, but the nearest ones still say what they lack.
        lacks = [f"没有提到{join(not_with)}" if zh else f"do not mention {join(not_with)}"] if not_with else []
        if detail:
            lacks.append(f"没有说明{join(detail)}" if zh else f"do not give {join(detail)}")
        if lacks:
            nearest_say = "最接近的段落" + "，也".join(lacks) if zh else "the nearest passages " + " or ".join(lacks)
            clauses[-1] += ("：" if zh else ": ") + nearest_say
    text = ("；" if zh else "; ").join(clauses)
    tail = "。下面列出最接近的段落，仅供参考。" if zh else ". The closest passages are listed for reference only."
    return (text[0].upper() + text[1:] if not zh else text) + tail
