"""The web page: one HTML document and its scripts and styles, shipped inside the
package (``service/api/static``) so the UI works offline. The page talks to the service
only through the public API, like any other client."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from silkqa.service.api.errors import ApiError

# Installed as plain files, never zipped: the resource is a real directory.
STATIC_DIR = Path(str(resources.files("silkqa.service.api") / "static"))

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

# Everything the page loads comes from this origin: a stray CDN link would be
# blocked in the browser (and caught by the browser tests) instead of silently
# making the page depend on the network.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# Revalidate on every load (ETag/Last-Modified make that cheap) so an upgraded
# service never runs a page against stale scripts.
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}

router = APIRouter(include_in_schema=False)


def _assets() -> dict[str, Path]:
    """The files a browser may fetch, by name; nothing outside this set is served."""
    return {p.name: p for p in STATIC_DIR.iterdir() if p.suffix in _MEDIA_TYPES}


ASSETS = _assets()


@router.get("/")
def index() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={**_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


@router.get("/ui/{name}")
def asset(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None:
        raise ApiError(404, "not-found", "Not found", f"no UI asset named {name!r}")
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers=_HEADERS)
