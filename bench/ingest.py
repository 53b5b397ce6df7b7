"""Ingest benchmark: indexing the bundled corpus from nothing, adding one new
~20-page PDF to the live index, and re-adding an unchanged document.

    .venv/bin/python -m bench.ingest [--pages 20]

The new document is the bundled progress report (about 25k characters), taken
out of the index first so that none of its text has been embedded, and typeset
as a PDF of about 20 pages (40 characters a line, page numbers at the foot), so
it also goes through PDF extraction and line-wrap repair. Prints
a Markdown table (the results are kept in bench/INGEST.md)."""

from __future__ import annotations

import argparse
import io
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from silkqa.index.ingest import formats
from silkqa.index.store.embedding import Embedder
from silkqa.service.library.lifecycle import build_and_publish
from silkqa.service.library.live import LiveLibrary
from silkqa.service.library.types import NewDocument
from silkqa.service.runtime import Runtime
from silkqa.service.settings import Settings

NEW_DOC = "progress-report-2023"


def typeset(text: str, pages: int) -> bytes:
    """``text`` as a PDF of about ``pages`` pages, hard-wrapped like a scan's text layer."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    lines = [p[i : i + 40] for p in text.split("\n") if p.strip() for i in range(0, len(p), 40)]
    per_page = max(1, -(-len(lines) // pages))
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    for page, first in enumerate(range(0, len(lines), per_page), start=1):
        pdf.setFont("STSong-Light", 10)
        for row, line in enumerate(lines[first : first + per_page]):
            pdf.drawString(40, 810 - row * 19, line)
        pdf.drawString(290, 20, str(page))
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def timed(fn):
    """(result, wall seconds); CPU seconds of the step are appended to CPU."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    CPU.append(time.process_time() - cpu)
    return result, time.perf_counter() - started


# CPU seconds per timed step: on a shared machine wall time varies with the
# load, CPU time much less.
CPU: list[float] = []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows: list[tuple[str, str, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index")
        embedder, seconds = timed(lambda: Embedder(settings.embedding_model, backend=settings.embed_backend))
        rows.append(("load the embedding model", f"{seconds:.1f} s", ""))

        built, seconds = timed(lambda: build_and_publish(settings, embedder))
        m = built.manifest
        rows.append(
            (
                "ingest the bundled corpus (5 documents, empty data directory)",
                f"{seconds:.1f} s",
                f"{sum(d.raw_length for d in built.documents.values()):,} characters → {m.chunk_count} chunks, "
                f"{m.unit_count} dense units, all embedded ({m.embedded_units})",
            )
        )

        runtime = Runtime(LiveLibrary(settings, built, embedder))
        updater = runtime.editor
        report = runtime.library.current().document(NEW_DOC)
        deleted, seconds = timed(lambda: updater.delete(NEW_DOC))
        rows.append(("delete one document", f"{seconds:.2f} s", f"{deleted.embedded_units} units embedded"))

        pdf = typeset(report.raw, args.pages)
        from pypdf import PdfReader

        page_count = len(PdfReader(io.BytesIO(pdf)).pages)
        extracted, seconds = timed(lambda: formats.extract(pdf, "report.pdf"))
        rows.append(
            (
                f"extract the text of the {page_count}-page PDF",
                f"{seconds:.2f} s",
                f"{len(pdf) / 1024:.0f} KiB → {len(extracted.text):,} characters",
            )
        )
        new = NewDocument(data=pdf, filename="report.pdf", doc_id="report-pdf", metadata={"title": report.meta.title})
        added, seconds = timed(lambda: updater.add(new))
        rows.append(
            (
                f"add one new {page_count}-page PDF to the live index",
                f"{seconds:.1f} s",
                f"{added.chunk_count} chunks, {added.embedded_chunks} embedded ({added.embedded_units} units); "
                f"{added.document_count} documents live",
            )
        )

        again, seconds = timed(lambda: updater.replace("report-pdf", new))
        rows.append(
            (
                "re-add the unchanged PDF (PUT, same id)",
                f"{seconds:.2f} s",
                f"action {again.action}: **{again.embedded_chunks} chunks re-embedded**",
            )
        )
        copy = NewDocument(data=pdf, filename="report.pdf", doc_id="report-pdf-copy", metadata={"title": report.meta.title})
        twin, seconds = timed(lambda: updater.add(copy))
        rows.append(
            (
                "add the same PDF again under a new id (POST)",
                f"{seconds:.2f} s",
                f"{twin.chunk_count} chunks, **{twin.embedded_chunks} re-embedded** (vectors reused by text hash)",
            )
        )

        reopened, seconds = timed(lambda: LiveLibrary.open(settings, embedder))
        rows.append(("restart: load the live build", f"{seconds:.2f} s", f"{len(reopened.current().documents())} documents"))

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores "
        f"({platform.python_implementation()} {platform.python_version()}); "
        f"load average at the end {os.getloadavg()[0]:.1f}.\n"
    )
    print("| step | wall time | CPU time | what |")
    print("| --- | --- | --- | --- |")
    for (step, seconds, what), cpu in zip(rows, CPU, strict=True):
        print(f"| {step} | {seconds} | {cpu:.1f} s | {what} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
