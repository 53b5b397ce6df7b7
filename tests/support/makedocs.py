"""Real files in each supported format, built from corpus text: PDFs with
reportlab (its built-in CID font STSong-Light renders Chinese without font
files), .docx with python-docx."""

from __future__ import annotations

import io

# A short document no bundled text contains, with facts a question can ask for.
LANMEI = """澜湄流域绿色发展合作备忘录
2024年6月18日
一、合作目标
（一）共建流域监测网络。双方同意在澜沧江—湄公河流域共建12个水质自动监测站，每季度交换一次监测数据。
（二）推广节水灌溉。到2026年，在流域内推广节水灌溉技术示范田3000公顷，培训农技人员500名。
二、保障措施
设立联合工作组，每年召开一次部长级会议，评估合作进展并发布年度报告。"""


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


def big_document(sentences: int) -> str:
    """A made-up pilot-project compilation of ``sentences`` numbered sentences,
    none of whose text any bundled document contains."""
    cities = ["万象", "金边", "曼谷", "河内", "仰光", "清迈", "琅勃拉邦", "暹粒"]
    lines = ["澜湄流域试点项目汇编", "一、试点项目"]
    for i in range(sentences):
        lines.append(
            f"第{i + 1}项试点在{cities[i % len(cities)]}开展，投入资金{(i + 3) * 7}万元，覆盖面积{(i + 5) * 3}公顷，惠及{(i + 2) * 11}户居民。"
        )
    return "\n".join(lines)
