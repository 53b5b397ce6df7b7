"""Small files that are costly to read: a .docx of millions of empty
paragraphs, one whose parsing outlasts the time budget, a PDF whose content
stream inflates to hundreds of MB. Each is refused with a 422 problem document
within the extraction budget (``SILKQA_EXTRACT_SECONDS`` / ``_MEMORY_MB``),
the library is unchanged and questions are answered meanwhile. Time and memory
are measured in bench/hostile.py."""

from __future__ import annotations

import httpx
import pytest

from silkqa.service.api.app import create_app
from tests.support.live import start_thread
from tests.support.makedocs import docx_of_empty_paragraphs, pdf_inflating_to
from tests.support.runtimes import runtime_over

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
QUESTION = "指导意见在人才队伍建设方面有哪些要求？"


@pytest.fixture
def server(settings, snapshot, embedder, tmp_path):
    # 2 s: the .docx of 400,000 paragraphs takes python-docx about 5 s here.
    runtime = runtime_over(settings, tmp_path / "index", snapshot, embedder, extract_seconds=2.0)
    live = start_thread(create_app(runtime=runtime))
    yield live
    live.stop()


@pytest.mark.parametrize(
    ("name", "data", "media", "says"),
    [
        ("paragraphs.docx", docx_of_empty_paragraphs(2_500_000), DOCX, "XML elements"),
        ("slow.docx", docx_of_empty_paragraphs(400_000), DOCX, "took longer than 2 s"),
        # pypdf has a decompression limit of its own; the child's memory budget is met first.
        ("inflating.pdf", pdf_inflating_to(400 << 20), "application/pdf", "PDF"),
    ],
)
def test_a_costly_upload_is_refused_within_the_budget(server, name, data, media, says):
    assert len(data) < 1.5 * 2**20  # far under the upload limit
    with httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post("/v1/documents", files={"file": (name, data, media)})
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["type"] in ("/problems/document-too-costly", "/problems/undecodable-document")
        assert says in problem["detail"]
        assert len(http.get("/v1/documents").json()["documents"]) == 5
        assert http.post("/v1/ask", json={"question": QUESTION}).json()["citations"]
