"""What an orchestrator polls: ``/healthz`` (alive, with the index size),
``/readyz`` (the index is loaded and consistent, the model is loaded and the
one the index was built with) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4
from pydantic import BaseModel, Field

from silkqa.service.api.deps import RuntimeDep
from silkqa.service.api.errors import problem
from silkqa.service.api.schemas import Health
from silkqa.service.runtime import Runtime

router = APIRouter(tags=["ops"])


class Readiness(BaseModel):
    status: str = Field(description='"ready"')
    checks: dict[str, str] = Field(description='Each check and its result ("ok" when it passed).')


def readiness_checks(runtime: Runtime | None) -> dict[str, str]:
    """Every check's verdict, "ok" when it passed."""
    if runtime is None:
        return {"engine": "not loaded yet"}
    index = runtime.library.current().index  # once: an update may swap it meanwhile
    manifest = index.manifest
    checks = {"engine": "ok"}
    identity = runtime.library.embedder.identity.to_json()
    checks["model"] = "ok" if manifest.model == identity else f"index built with {manifest.model}, model loaded is {identity}"
    wrong = index.check()
    checks["index"] = "; ".join(wrong) or "ok"
    return checks


@router.get("/healthz", response_model=Health)
def healthz(runtime: RuntimeDep) -> Health:
    library = runtime.library
    m = library.current().index.manifest
    return Health(
        status="ok",
        documents=m.document_count,
        chunks=m.chunk_count,
        model=library.embedder.identity.name,
        index_built_at=m.built_at,
    )


_NOT_READY = {"content": {"application/problem+json": {}}, "description": "Not ready: a problem document with `checks`"}


@router.get("/readyz", response_model=Readiness, responses={503: _NOT_READY})
def readyz(request: Request) -> Readiness | JSONResponse:
    """Ready to serve: index loaded and consistent with its manifest, embedding model loaded and matching it."""
    checks = readiness_checks(getattr(request.app.state, "runtime", None))
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
