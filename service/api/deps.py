"""Typed dependencies of the routes: the runtime the app serves, the one
snapshot of the library a request reads (taken once, at the start), and the
caller (whose conversations are theirs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from silkqa.service.api.errors import ApiError
from silkqa.service.api.security import Principal
from silkqa.service.retrieval.types import Snapshot
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings


async def runtime(request: Request) -> Runtime:
    served: Runtime = request.app.state.runtime
    return served


RuntimeDep = Annotated[Runtime, Depends(runtime)]


async def settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


async def snapshot(runtime: RuntimeDep) -> Snapshot:
    return runtime.library.current()


SettingsDep = Annotated[Settings, Depends(settings)]
SnapshotDep = Annotated[Snapshot, Depends(snapshot)]


async def principal(request: Request) -> Principal:
    """Who is asking (set by the authentication middleware; ``anonymous`` when the API is open)."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:  # a public route: it has no caller to own anything
        raise ApiError(401, "unauthenticated", "Unauthenticated", "this route needs a caller")
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]
