"""Runs an evaluation set against the in-process pipeline or a running server.

Both targets answer through the same response shape as ``POST /v1/ask``, so
``silkqa eval --url`` measures exactly what clients get."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

from eval.dataset import EvalItem, GoldLocator, Span, normalize, supports
from eval.metrics import QuestionResult


class Target(Protocol):
    name: str

    def ask(self, question: str, top_k: int) -> dict: ...

    def documents(self) -> dict[str, str]: ...

    def config(self) -> dict: ...


class InProcessTarget:
    """The engine called directly, responses shaped by the API's own models."""

    def __init__(self, engine, name: str = "in-process"):
        from service.api.schemas import AskResponse

        self._engine = engine
        self._shape = AskResponse.of
        self.name = name
        self._titles = {d.meta.doc_id: d.meta.title for d in engine.documents()}

    def ask(self, question: str, top_k: int) -> dict:
        return self._shape(self._engine.ask(question, top_k), self._titles).model_dump()

    def documents(self) -> dict[str, str]:
        return {d.meta.doc_id: d.text for d in self._engine.documents()}

    def config(self) -> dict:
        s = self._engine.settings
        return {"settings": json.loads(s.model_dump_json()), "index": self._engine.index.manifest.to_json()}


class HttpTarget:
    """A running silkqa server (``silkqa eval --url``)."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0):
        self.base = url.rstrip("/")
        self.name = self.base
        self._headers = {"content-type": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=self._headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path} failed: {exc.code} {exc.read()[:300]!r}") from exc

    def ask(self, question: str, top_k: int) -> dict:
        return self._call("POST", "/v1/ask", {"question": question, "top_k": top_k})

    def documents(self) -> dict[str, str]:
        listing = self._call("GET", "/v1/documents")["documents"]
        return {d["doc_id"]: self._call("GET", f"/v1/documents/{d['doc_id']}")["text"] for d in listing}

    def config(self) -> dict:
        return {"url": self.base, "health": self._call("GET", "/healthz")}


@dataclass
class QuestionRecord:
    """A question's result plus what a person needs to see why it failed."""

    result: QuestionResult
    question: str
    expected: list[str]
    answer: str
    top_passages: list[dict]
    citations: list[dict]
    confidence: float


@dataclass
class RunOutput:
    target: str
    config: dict
    records: list[QuestionRecord] = field(default_factory=list)

    @property
    def results(self) -> list[QuestionResult]:
        return [r.result for r in self.records]


def _passage_supports(gold: list[list[Span]], doc_id: str, start: int, end: int) -> list[int]:
    return [j for j, spans in enumerate(gold) if supports(spans, doc_id, start, end)]


def evaluate_one(item: EvalItem, body: dict, documents: dict[str, str], locator: GoldLocator, wall_ms: float) -> QuestionRecord:
    gold = [locator.locate(g.quote) for g in item.gold]
    passages = body["passages"]
    relevant_ranks, new_gold_at_rank, covered = [], [], set()
    for rank, p in enumerate(passages, start=1):
        hits = _passage_supports(gold, p["doc_id"], p["start"], p["end"])
        if hits:
            relevant_ranks.append(rank)
        if set(hits) - covered:
            new_gold_at_rank.append(rank)
            covered |= set(hits)
    chunk_spans = {p["chunk_id"]: (p["doc_id"], p["start"], p["end"]) for p in passages}
    supporting = exact = 0
    for c in body["citations"]:
        spans = [(c["doc_id"], c["start"], c["end"])]
        if c["chunk_id"] in chunk_spans:
            spans.append(chunk_spans[c["chunk_id"]])
        if any(_passage_supports(gold, *s) for s in spans):
            supporting += 1
        if documents.get(c["doc_id"], "")[c["start"] : c["end"]] == c["quote"]:
            exact += 1
    answer_norm = normalize(body["answer"])
    result = QuestionResult(
        id=item.id,
        lang=item.lang,
        kind=item.kind,
        answerable=item.answerable,
        abstained=bool(body["abstained"]),
        relevant_ranks=tuple(relevant_ranks),
        gold_count=len(item.gold),
        new_gold_at_rank=tuple(new_gold_at_rank),
        citations=len(body["citations"]),
        supporting_citations=supporting,
        exact_citations=exact,
        key_facts_ok=bool(item.must_contain) and all(normalize(f) in answer_norm for f in item.must_contain),
        timings_ms={**body.get("timings_ms", {}), "total": round(wall_ms, 2)},
    )
    return QuestionRecord(
        result=result,
        question=item.question,
        expected=[g.quote for g in item.gold],
        answer=body["answer"],
        top_passages=[
            {"rank": i + 1, "chunk_id": p["chunk_id"], "section": p["section"], "text": p["text"][:120]} for i, p in enumerate(passages[:3])
        ],
        citations=[{"marker": c["marker"], "doc_id": c["doc_id"], "quote": c["quote"][:160]} for c in body["citations"]],
        confidence=float(body.get("confidence", 0.0)),
    )


def run(items: list[EvalItem], target: Target, top_k: int = 10) -> RunOutput:
    documents = target.documents()
    locator = GoldLocator(documents)
    output = RunOutput(target=target.name, config=target.config())
    for item in items:
        started = time.perf_counter()
        body = target.ask(item.question, top_k)
        wall_ms = (time.perf_counter() - started) * 1000
        output.records.append(evaluate_one(item, body, documents, locator, wall_ms))
    return output
