"""What an orchestrator polls: ``/readyz`` (the index is loaded and consistent,
the model is loaded and the one the index was built with) and ``/metrics``
(Prometheus). ``/healthz``, liveness, lives with the other routes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4
from pydantic import BaseModel, Field

from service.api.errors import problem
from service.engine import QAEngine

router = APIRouter(tags=["ops"])


class Readiness(BaseModel):
    status: str = Field(description='"ready"')
    checks: dict[str, str] = Field(description='Each check and its result ("ok" when it passed).')


def readiness_checks(engine: QAEngine | None) -> dict[str, str]:
    """Every check's verdict, "ok" when it passed."""
    if engine is None:
        return {"engine": "not loaded yet"}
    index = engine.index  # once: an update may swap it meanwhile
    manifest = index.manifest
    checks = {"engine": "ok"}
    identity = engine.embedder.identity.to_json()
    checks["model"] = "ok" if manifest.model == identity else f"index built with {manifest.model}, model loaded is {identity}"
    counts = {
        "documents": (len(index.documents), manifest.document_count),
        "chunks": (len(index.chunks), manifest.chunk_count),
        "dense units": (len(index.units), manifest.unit_count),
        "vectors": (int(index.dense.ntotal), manifest.unit_count),
        "bm25 passages": (index.lexical.size, manifest.chunk_count),
    }
    wrong = [f"{name}: {have} loaded, manifest says {want}" for name, (have, want) in counts.items() if have != want]
    orphans = {c.doc_id for c in index.chunks} - set(index.documents)
    if orphans:
        wrong.append(f"chunks of unknown documents {sorted(orphans)}")
    checks["index"] = "; ".join(wrong) or "ok"
    return checks


_NOT_READY = {"content": {"application/problem+json": {}}, "description": "Not ready: a problem document with `checks`"}


@router.get("/readyz", response_model=Readiness, responses={503: _NOT_READY})
def readyz(request: Request):
    """Ready to serve: index loaded and consistent with its manifest, embedding model loaded and matching it."""
    checks = readiness_checks(getattr(request.app.state, "engine", None))
    failed = {name: verdict for name, verdict in checks.items() if verdict != "ok"}
    if failed:
        detail = "; ".join(f"{name}: {verdict}" for name, verdict in failed.items())
        return problem(503, "not-ready", "Not ready", detail, request, checks=checks)
    return Readiness(status="ready", checks=checks)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text format"}},
)
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests and latency per route and status, stage timings, index size, abstention, rate limiting."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
