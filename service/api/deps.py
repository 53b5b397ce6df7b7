"""Typed dependencies of the routes: the runtime the app serves, and the one
snapshot of the library a request reads (taken once, at the start)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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
