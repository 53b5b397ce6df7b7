"""Real files in each supported format, built from corpus text: PDFs with
reportlab (its built-in CID font STSong-Light renders Chinese without font
files), .docx with python-docx."""

from __future__ import annotations

import io

from service.settings import PROJECT_ROOT


def corpus_text(doc_id: str) -> str:
    """A bundled document's raw text, as shipped in corpus/."""
    return (PROJECT_ROOT / "corpus" / f"{doc_id}.txt").read_text(encoding="utf-8")


def pdf_bytes(paragraphs: list[str], title: str | None = None, wrap: int = 26, lines_per_page: int = 40) -> bytes:
    """A PDF whose lines are hard-wrapped every ``wrap`` characters (as the
    corpus PDFs were) with the page number printed at the foot of each page."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    if title:
        pdf.setTitle(title)
    lines = [p[i : i + wrap] for p in paragraphs for i in range(0, len(p), wrap)]
    for page_no, first in enumerate(range(0, len(lines), lines_per_page), start=1):
        pdf.setFont("STSong-Light", 11)
        y = 800
        for line in lines[first : first + lines_per_page]:
            pdf.drawString(50, y, line)
            y -= 18
        pdf.drawString(290, 40, str(page_no))
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def docx_bytes(paragraphs: list[str], table: list[list[str]] | None = None, title: str | None = None) -> bytes:
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
