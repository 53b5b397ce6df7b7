"""What kind of quantity a question asks for, and whether a sentence states one.

"蒙内铁路一共投资了多少钱？" asks for money; a passage about the railway that
gives its length (471公里) but no amount does not answer it, however well it
matches the rest of the question. Checking the unit family is a cheap,
deterministic guard against answering near-topic questions the documents do
not cover."""

from __future__ import annotations

import re
from enum import StrEnum

_NUM = r"\d[\d.,，]*\s*"


class Quantity(StrEnum):
    MONEY = "money"
    POWER = "power"
    LENGTH = "length"
    MASS = "mass"
    ENERGY = "energy"
    DATE = "date"
    DAY = "day"  # a date to the day: "哪天发布的" is not answered by "2022年1月"
    ORGANISATIONS = "organisations"


_ASKS: dict[Quantity, re.Pattern[str]] = {
    Quantity.MONEY: re.compile(
        r"(多少|几)(亿|万)?(美元|元|人民币|钱)|投资(了)?多少|总投资|预算|金额"
        r"|how much (?:money|\w+ (?:cost|invest))|(?:total|the) (?:investment|cost) (?:of|in)|\bcost\b",
        re.I,
    ),
    Quantity.POWER: re.compile(r"(多少|几)(兆瓦|千瓦|MW|GW|瓦)|装机(容量)?(是)?多少|installed capacity", re.I),
    Quantity.LENGTH: re.compile(r"(多少|几)(公里|千米)|多长|全长|how long", re.I),
    Quantity.MASS: re.compile(r"(多少|几)(万)?吨|tonnes|\btons\b", re.I),
    Quantity.ENERGY: re.compile(
        r"(多少|几)(亿|万)?(度|千瓦时)|发电量(是|有)?多少|多少(清洁)?电(力|量)?|提供多少.{0,4}电"
        r"|how much (clean )?(electricity|power)|kwh",
        re.I,
    ),
    Quantity.DATE: re.compile(r"哪一?年|哪一?天|几月几日|什么时候|何时|日期|\bwhen\b|what year|what date", re.I),
    Quantity.DAY: re.compile(r"哪一?天|几月几[日号]|几号|哪一?日|具体日期|\b(?:which|what) (?:day|date)\b|exact date", re.I),
    Quantity.ORGANISATIONS: re.compile(r"多少(家|个成员|名成员)|how many members", re.I),
}

_STATES: dict[Quantity, re.Pattern[str]] = {
    Quantity.MONEY: re.compile(_NUM + r"(亿|万)?\s*(美元|元|人民币)"),
    Quantity.POWER: re.compile(_NUM + r"(兆瓦|千瓦|万千瓦|MW|GW|kW)", re.I),
    Quantity.LENGTH: re.compile(_NUM + r"(公里|千米|km)", re.I),
    Quantity.MASS: re.compile(_NUM + r"(万|亿)?\s*吨"),
    Quantity.ENERGY: re.compile(_NUM + r"(万|亿)?\s*(度|千瓦时|kWh)", re.I),
    Quantity.DATE: re.compile(r"(19|20)\d{2}\s*年|\d{1,2}\s*月|(19|20)\d{2}[/.-]\d{1,2}"),
    Quantity.DAY: re.compile(r"\d{1,2}\s*[日号]|(19|20)\d{2}[/.-]\d{1,2}[/.-]\d{1,2}"),
    Quantity.ORGANISATIONS: re.compile(_NUM + r"(余|多)?\s*(家|个)"),
}


# Any question whose answer is a number or a date, whatever its unit.
_FIGURE = re.compile(
    r"多少|几[个项次家年名座条]|数量|规模|比例|占比|百分之|哪一?年|何时|什么时候|哪天|日期"
    r"|how (many|much)|percent|when|what year|date",
    re.I,
)


def asks_figure(question: str) -> bool:
    return bool(_FIGURE.search(question))


def asked_quantities(question: str) -> frozenset[Quantity]:
    return frozenset(kind for kind, pattern in _ASKS.items() if pattern.search(question))


def states(kind: Quantity, text: str) -> bool:
    return bool(_STATES[kind].search(text))
