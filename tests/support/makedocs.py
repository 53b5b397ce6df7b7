"""Real files in each supported format, built from corpus text: PDFs with
reportlab (its built-in CID font STSong-Light renders Chinese without font
files), .docx with python-docx."""

from __future__ import annotations

import io
import zipfile
import zlib

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


# --- hostile files: small uploads that are costly to read ---------------------


def docx_of_empty_paragraphs(count: int) -> bytes:
    """A real .docx whose body is ``count`` empty paragraphs and one word: 2.5
    million of them compress to under 60 KB and took python-docx 79 s."""
    real = zipfile.ZipFile(io.BytesIO(docx_bytes(["绿色发展"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in real.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, real.read(item))
        bomb.writestr(
            "word/document.xml",
            b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            b"<w:body>" + b"<w:p/>" * count + b"<w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()


def pdf_inflating_to(inflated: int) -> bytes:
    """A one-page PDF whose content stream inflates to ``inflated`` bytes of
    text operators (about 1 MB of file for 400 MB)."""
    packer = zlib.compressobj(9)
    block = b"BT /F1 12 Tf (a) Tj ET\n" * 4096
    stream = b"".join(packer.compress(block) for _ in range(inflated // len(block))) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def html_of_paragraphs(count: int) -> bytes:
    """A web page of ``count`` short paragraphs (30,000 make 2.7 MB)."""
    body = "".join(f"<p>第{n}段：推进绿色发展，加强生态环境保护合作，共建清洁美丽世界。</p>" for n in range(count))
    return f"<!DOCTYPE html><html><head><title>长页</title></head><body><main>{body}</main></body></html>".encode()
