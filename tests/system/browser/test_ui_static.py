"""The web page's files as the service serves them (no browser needed)."""

from __future__ import annotations

import re

from silkqa.service.api.routes.ui import ASSETS, STATIC_DIR

# Anything the page would fetch from elsewhere: it must work offline.
EXTERNAL = re.compile(r"""(?:src|href|url|import|from|fetch)\s*\(?\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_the_page_and_everything_it_loads_are_served_from_the_package(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert '<html lang="en">' in html and "指导意见在人才队伍建设方面有哪些要求？" in html

    referenced = set(re.findall(r'(?:src|href)="/ui/([^"]+)"', html))
    for name in ASSETS:
        if name.endswith(".js"):
            referenced |= set(re.findall(r'from "/ui/([^"]+)"', (STATIC_DIR / name).read_text(encoding="utf-8")))
    assert referenced == {"app.js", "app.css", "icon.svg", "sse.js", "highlight.js", "api.js", "present.js"}
    for name in referenced:
        asset = client.get(f"/ui/{name}")
        assert asset.status_code == 200, name
        assert asset.content == (STATIC_DIR / name).read_bytes()
    assert client.get("/ui/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/ui/app.css").headers["content-type"] == "text/css; charset=utf-8"


def test_no_file_of_the_page_reaches_outside_the_service():
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), f"{path.name} loads something from another host"


def test_only_the_page_assets_are_served(client):
    for name in ["index.html", "..%2Fapi%2Froutes_ui.py", "nope.js", "app.js.map"]:
        r = client.get(f"/ui/{name}")
        assert r.status_code == 404, name
        assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/ui/../settings.py").status_code == 404


def test_the_api_docs_load_nothing_from_elsewhere(client):
    for path, viewer in [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]:
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        policy = r.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy, "no inline or foreign scripts"
        sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
        assert f"/docs/assets/{viewer}" in sources and "/ui/apidocs.js" in sources
        for source in sources:
            asset = client.get(source)
            assert asset.status_code == 200 and len(asset.content) > 100, source
    assert client.get("/docs/assets/../routes/apidocs.py").status_code == 404
    assert client.get("/docs/assets/favicon.png").status_code == 404, "only the files the pages use"
