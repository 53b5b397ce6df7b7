"""The API's interactive documentation, ``/docs`` (Swagger UI) and ``/redoc``
(ReDoc), served entirely from this service: the two viewers' files come from
the ``fastapi-offline`` package and the few lines that start them from the
page's own ``apidocs.js``. FastAPI's built-in pages would load both from a
CDN (blank offline) with inline scripts; these load nothing from elsewhere,
under a Content-Security-Policy that says so."""

from __future__ import annotations

from html import escape
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from silkqa.service.api.errors import ApiError

VIEWER_DIR = Path(str(resources.files("fastapi_offline") / "static"))
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}
# Both viewers set styles from script (ReDoc injects <style> elements) and ReDoc
# runs its search in a worker made from a blob; nothing else is allowed, and
# nothing from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}

router = APIRouter(include_in_schema=False)


def _page(title: str, mount: str, scripts: tuple[str, ...], styles: tuple[str, ...] = ()) -> HTMLResponse:
    links = "".join(f'<link rel="stylesheet" href="{escape(href)}">' for href in styles)
    tags = "".join(f'<script src="{escape(src)}" defer></script>' for src in scripts)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f'<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">{links}{tags}</head>'
        f'<body><div id="{mount}" data-openapi="/openapi.json"></div></body></html>'
    )
    return HTMLResponse(html, headers={**_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY})


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _page(
        "silkqa API · Swagger UI",
        "swagger-ui",
        ("/docs/assets/swagger-ui-bundle.js", "/ui/apidocs.js"),
        ("/docs/assets/swagger-ui.css",),
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _page("silkqa API · ReDoc", "redoc", ("/docs/assets/redoc.standalone.js", "/ui/apidocs.js"))


@router.get("/docs/assets/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise ApiError(404, "not-found", "Not found", f"no documentation asset named {name!r}")
    # Versioned by the installed package: an upgrade changes the file, and the ETag with it.
    return FileResponse(VIEWER_DIR / name, media_type=ASSETS[name], headers=_HEADERS)
