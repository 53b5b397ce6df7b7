"""Runs an evaluation set against the in-process pipeline or a running server.

The in-process target calls the same question path the API serves
(``AnswerPipeline``), and both targets' answers become the same
``Observation``, so ``silkqa eval`` and ``silkqa eval --url`` give the same
metrics (a test holds them to it)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

from silkqa.eval.dataset import EvalItem, GoldLocator, Span, normalize, supports
from silkqa.eval.metrics import QuestionResult
from silkqa.index.ingest.structure import format_path
from silkqa.service.answering.pipeline import AnswerPipeline
from silkqa.service.answering.types import Answer, Question
from silkqa.service.runtime import Runtime


@dataclass(frozen=True)
class Retrieved:
    chunk_id: str
    doc_id: str
    section: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Cited:
    marker: int
    chunk_id: str
    doc_id: str
    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class Observation:
    """What the metrics read of one answer, from either target: the
    in-process answer and the ``/v1/ask`` JSON become the same record."""

    answer: str
    abstained: bool
    confidence: float
    passages: tuple[Retrieved, ...]
    citations: tuple[Cited, ...]
    timings_ms: dict[str, float]

    @classmethod
    def of_answer(cls, answer: Answer) -> Observation:
        return cls(
            answer=answer.text,
            abstained=answer.abstained,
            confidence=answer.confidence,
            passages=tuple(
                Retrieved(
                    h.chunk.chunk_id, h.chunk.doc_id, format_path(h.chunk.section), h.chunk.text, h.chunk.start, h.chunk.end
                )
                for h in answer.passages
            ),
            citations=tuple(Cited(c.marker, c.chunk_id, c.doc_id, c.quote, c.start, c.end) for c in answer.citations),
            timings_ms=dict(answer.timings_ms),
        )

    @classmethod
    def of_response(cls, body: dict[str, Any]) -> Observation:
        return cls(
            answer=body["answer"],
            abstained=bool(body["abstained"]),
            confidence=float(body.get("confidence", 0.0)),
            passages=tuple(Retrieved(**{f: p[f] for f in Retrieved.__dataclass_fields__}) for p in body["passages"]),
            citations=tuple(Cited(**{f: c[f] for f in Cited.__dataclass_fields__}) for c in body["citations"]),
            timings_ms=body.get("timings_ms", {}),
        )


class Target(Protocol):
    name: str

    def ask(self, question: str, top_k: int) -> Observation: ...

    def documents(self) -> dict[str, str]: ...

    def config(self) -> dict[str, Any]: ...


class InProcessTarget:
    """The question path called directly: the same ``AnswerPipeline`` the API serves."""

    def __init__(self, pipeline: AnswerPipeline, config: dict[str, Any], name: str = "in-process"):
        self.pipeline = pipeline
        self._config = config
        self.name = name

    @classmethod
    def of(cls, runtime: Runtime, name: str = "in-process") -> InProcessTarget:
        config = {
            "settings": json.loads(runtime.settings.model_dump_json()),
            "index": runtime.library.current().index.manifest.to_json(),
        }
        return cls(runtime.pipeline, config, name)

    def ask(self, question: str, top_k: int) -> Observation:
        return Observation.of_answer(self.pipeline.answer(Question(question, top_k=top_k)))

    def documents(self) -> dict[str, str]:
        return {d.meta.doc_id: d.text for d in self.pipeline.library.current().documents()}

    def config(self) -> dict[str, Any]:
        return self._config


class HttpTarget:
    """A running silkqa server (``silkqa eval --url``)."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0):
        self.base = url.rstrip("/")
        self.name = self.base
        self._headers = {"content-type": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=self._headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path} failed: {exc.code} {exc.read()[:300]!r}") from exc

    def ask(self, question: str, top_k: int) -> Observation:
        return Observation.of_response(self._call("POST", "/v1/ask", {"question": question, "top_k": top_k}))

    def documents(self) -> dict[str, str]:
        listing = self._call("GET", "/v1/documents")["documents"]
        return {d["doc_id"]: self._call("GET", f"/v1/documents/{d['doc_id']}")["text"] for d in listing}

    def config(self) -> dict[str, Any]:
        return {"url": self.base, "health": self._call("GET", "/healthz")}


@dataclass
class QuestionRecord:
    """A question's result plus what a person needs to see why it failed."""

    result: QuestionResult
    question: str
    expected: list[str]
    answer: str
    top_passages: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    confidence: float


@dataclass
class RunOutput:
    target: str
    config: dict[str, Any]
    records: list[QuestionRecord] = field(default_factory=list)

    @property
    def results(self) -> list[QuestionResult]:
        return [r.result for r in self.records]


def _passage_supports(gold: list[list[Span]], doc_id: str, start: int, end: int) -> list[int]:
    return [j for j, spans in enumerate(gold) if supports(spans, doc_id, start, end)]


def evaluate_one(
    item: EvalItem, seen: Observation, documents: dict[str, str], locator: GoldLocator, wall_ms: float
) -> QuestionRecord:
    gold = [locator.locate(g.quote) for g in item.gold]
    relevant_ranks: list[int] = []
    new_gold_at_rank: list[int] = []
    covered: set[int] = set()
    for rank, p in enumerate(seen.passages, start=1):
        hits = _passage_supports(gold, p.doc_id, p.start, p.end)
        if hits:
            relevant_ranks.append(rank)
        if set(hits) - covered:
            new_gold_at_rank.append(rank)
            covered |= set(hits)
    chunk_spans = {p.chunk_id: (p.doc_id, p.start, p.end) for p in seen.passages}
    supporting = exact = 0
    for c in seen.citations:
        spans = [(c.doc_id, c.start, c.end)]
        if c.chunk_id in chunk_spans:
            spans.append(chunk_spans[c.chunk_id])
        if any(_passage_supports(gold, *s) for s in spans):
            supporting += 1
        if documents.get(c.doc_id, "")[c.start : c.end] == c.quote:
            exact += 1
    answer_norm = normalize(seen.answer)
    result = QuestionResult(
        id=item.id,
        lang=item.lang,
        kind=item.kind,
        category=item.category,
        answerable=item.answerable,
        abstained=seen.abstained,
        relevant_ranks=tuple(relevant_ranks),
        gold_count=len(item.gold),
        new_gold_at_rank=tuple(new_gold_at_rank),
        citations=len(seen.citations),
        supporting_citations=supporting,
        exact_citations=exact,
        key_facts_ok=bool(item.must_contain) and all(normalize(f) in answer_norm for f in item.must_contain),
        timings_ms={**seen.timings_ms, "total": round(wall_ms, 2)},
    )
    return QuestionRecord(
        result=result,
        question=item.question,
        expected=[g.quote for g in item.gold],
        answer=seen.answer,
        top_passages=[
            {"rank": i + 1, "chunk_id": p.chunk_id, "section": p.section, "text": p.text[:120]}
            for i, p in enumerate(seen.passages[:3])
        ],
        citations=[{"marker": c.marker, "doc_id": c.doc_id, "quote": c.quote[:160]} for c in seen.citations],
        confidence=round(seen.confidence, 4),
    )


def run(items: list[EvalItem], target: Target, top_k: int = 10) -> RunOutput:
    documents = target.documents()
    locator = GoldLocator(documents)
    output = RunOutput(target=target.name, config=target.config())
    for item in items:
        started = time.perf_counter()
        seen = target.ask(item.question, top_k)
        wall_ms = (time.perf_counter() - started) * 1000
        output.records.append(evaluate_one(item, seen, documents, locator, wall_ms))
    return output
