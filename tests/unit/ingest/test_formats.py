"""Every supported file format, built from real corpus text, through extraction
and cleaning; and the clear errors for everything else."""

from __future__ import annotations

import io

import numpy as np
import pytest

from silkqa.index.ingest import cleaning, formats
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.offsets import apply_edits
from silkqa.index.ingest.structure import format_path, parse_blocks
from silkqa.index.ingest.types import BlockKind
from tests.support.makedocs import docx_bytes, pdf_bytes
from tests.support.paths import read_corpus


def _paragraphs(doc_id: str, first: int, count: int) -> list[str]:
    lines = [line for line in clean(read_corpus(doc_id)).text.split("\n") if len(line) > 40]
    return lines[first : first + count]


def test_pdf_line_wraps_and_page_numbers_are_repaired():
    paragraphs = _paragraphs("guiding-opinion-2017", 0, 6)
    data = pdf_bytes(paragraphs, title="关于推进绿色“一带一路”建设的指导意见", lines_per_page=14)
    extracted = formats.extract(data, "opinion.pdf")
    assert extracted.format == formats.PDF and extracted.title == "关于推进绿色“一带一路”建设的指导意见"
    raw_lines = extracted.text.split("\n")
    assert max(len(line) for line in raw_lines) <= 26  # hard-wrapped, as the bundled PDFs were
    assert [line for line in raw_lines if line.strip().isdigit()] == ["1", "2", "3", "4"]  # page numbers
    text = clean(extracted.text).text
    for paragraph in paragraphs:  # each wrapped paragraph, across page breaks too, is whole again
        assert paragraph in text
    assert "\n1\n" not in f"\n{text}\n" and "\n2\n" not in f"\n{text}\n"


def test_docx_paragraphs_and_a_table_with_blank_category_cells():
    table = [
        ["类目", "序号", "项目名称"],
        ["政策沟通", "1", "“一带一路”生态环保合作国际高层对话"],
        ["", "2", "“一带一路”绿色发展国际联盟"],
        ["贸易畅通", "11", "“一带一路”危险废物管理和进出口监管合作"],
        ["", "12", "“一带一路”沿线环境标志互认"],
    ]
    lead = "规划涉及 25 个重点项目，包括政策沟通类 6 个，设施联通类 4 个，贸易畅通类 3 个。"
    extracted = formats.extract(docx_bytes(["九、重大项目", lead], table, title="合作规划"), "plan.docx")
    assert extracted.format == formats.DOCX and extracted.title == "合作规划"
    assert "\t12\t“一带一路”沿线环境标志互认" in extracted.text
    text = clean(extracted.text).text
    rows = [b for b in parse_blocks(text) if b.kind is BlockKind.TABLE_ROW]
    row12 = next(b for b in rows if "环境标志互认" in text[b.start : b.end])
    assert row12.context.startswith("规划涉及 25 个重点项目；类目：贸易畅通；序号：12")
    assert row12.path == ("九、重大项目",)


def _web_page(paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>关于推进共建“一带一路”绿色发展的意见</title></head>
<body><div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li><li><a href="/fggz">发改数据</a></li></ul></div>
<div class="crumb"><a href="/">首页</a> &gt; <a href="/zcfb">政策</a> &gt; <a href="/tz">通知</a></div>
<article><h1>国家发展改革委等部门 关于推进共建“一带一路”绿色发展的意见</h1><p>发改开放〔2022〕408号</p>{body}
<table><tr><th>类目</th><th>项目</th></tr><tr><td>贸易畅通</td><td>环境标志互认</td></tr><tr><td></td><td>绿色供应链管理</td></tr></table></article>
<aside class="sidebar"><h3>排行榜</h3><ul><li><a href="/a">关于第三监管周期省级电价及有关事项的通知</a></li><li><a href="/b">一图读懂</a></li></ul></aside>
<footer><p><a href="#">打印</a> 主办单位：中华人民共和国国家发展和改革委员会</p><p>网站标识码：bm04000007 京ICP备05052393号 版权所有</p></footer>
</body></html>""".encode()


def test_html_main_content_without_navigation_sidebar_or_footer():
    paragraphs = _paragraphs("opinion-2022", 2, 4)
    extracted = formats.extract(_web_page(paragraphs), "opinion.html")
    assert extracted.format == formats.HTML
    assert extracted.title.endswith("关于推进共建“一带一路”绿色发展的意见")
    for paragraph in paragraphs:
        assert paragraph in extracted.text
    for boilerplate in ("政务公开", "排行榜", "一图读懂", "主办单位", "网站标识码", "版权所有"):
        assert boilerplate not in extracted.text
    assert "贸易畅通\t环境标志互认\n\t绿色供应链管理" in extracted.text


def test_markdown_headings_and_pipe_tables_become_structure():
    raw = (
        "# “一带一路”生态环境保护合作规划\n\n## 九、重大项目\n\n"
        "规划涉及 25 个重点项目，包括政策沟通类 6 个。\n\n"
        "| 类目 | 序号 | 项目名称 |\n|---|---|---|\n| 贸易畅通 | 11 | “一带一路”危险废物管理和进出口监管合作 |\n|  | 12 | “一带一路”沿线环境标志互认 |\n"
    )
    assert formats.extract(raw.encode(), "plan.md").format == formats.MARKDOWN
    text = clean(raw).text
    assert text.startswith("“一带一路”生态环境保护合作规划\n九、重大项目\n")
    blocks = parse_blocks(text)
    row12 = next(b for b in blocks if "环境标志互认" in text[b.start : b.end])
    assert row12.kind is BlockKind.TABLE_ROW and "类目：贸易畅通；序号：12" in row12.context
    assert format_path(row12.path) == "九、重大项目"
    without = clean(raw, tuple(r for r in cleaning.RULES if r is not cleaning.strip_markdown_markup)).text
    assert "## 九、重大项目" in without and not any(b.kind is BlockKind.TABLE_ROW for b in parse_blocks(without))


def test_markdown_rule_keeps_offsets_of_cell_text():
    line = "| 贸易畅通 | 12 | 沿线环境标志互认 |"
    out, origin = apply_edits(line, np.arange(len(line)), cleaning.strip_markdown_markup(line))
    assert out == "贸易畅通\t12\t沿线环境标志互认"
    assert line[origin[out.index("沿线")] :].startswith("沿线环境标志互认")


def test_text_encodings():
    sentence = "推进共建“一带一路”绿色发展，是践行绿色发展理念的内在要求。"
    assert formats.extract(sentence.encode("utf-8-sig"), "a.txt").text == sentence
    assert formats.extract(sentence.encode("gb18030"), "a.txt").text == sentence
    assert formats.extract(sentence.encode("utf-16"), "a.txt").text == sentence


@pytest.mark.parametrize(
    "data, filename, error, message",
    [
        (b"\x00\x01\x02\x03binary\xff\xfe\x00", "notes.txt", formats.UndecodableDocument, "not text"),
        (bytes(range(256)) * 8, None, formats.UndecodableDocument, "not text"),
        (b"a,b\n1,2\n", "table.xlsx", formats.UnsupportedFormat, "unsupported file type '.xlsx'"),
        (b"MZ\x90\x00", "setup.exe", formats.UnsupportedFormat, "supported: .docx"),
        (b"%PDF-1.7\nthis is not really a pdf", "broken.pdf", formats.UndecodableDocument, "not a readable PDF"),
        (b"plain words, not a zip", "letter.docx", formats.UndecodableDocument, "not a readable .docx"),
        (b"   \n ", "empty.txt", formats.UndecodableDocument, "empty"),
        (
            b"<html><body><nav><a href='/'>home</a></nav></body></html>",
            "page.html",
            formats.UndecodableDocument,
            "no (main )?text",
        ),
    ],
)
def test_bad_files_get_a_clear_error(data, filename, error, message):
    with pytest.raises(error, match=message):
        formats.extract(data, filename)


def test_pdf_without_a_text_layer_asks_for_ocr():
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.rect(100, 100, 200, 200, fill=1)  # a "scan": drawing only
    pdf.showPage()
    pdf.save()
    with pytest.raises(formats.UndecodableDocument, match="OCR"):
        formats.extract(out.getvalue(), "scan.pdf")


def test_format_is_sniffed_when_the_name_has_no_extension():
    assert formats.detect_format(pdf_bytes(["一段文字。"])) == formats.PDF
    assert formats.detect_format(docx_bytes(["一段文字。"])) == formats.DOCX
    assert formats.detect_format(b"<!DOCTYPE html><html><body>x</body></html>") == formats.HTML
    assert formats.detect_format("一段文字。".encode()) == formats.TEXT
    assert formats.detect_format(b"x", content_type="text/markdown; charset=utf-8") == formats.MARKDOWN
    with pytest.raises(formats.UnsupportedFormat, match="image/png"):
        formats.detect_format(b"\x89PNG", content_type="image/png")


@pytest.mark.parametrize(
    "filename, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("/abs/path/报告.pdf", "报告.pdf"),
        (".hidden.md", "hidden.md"),
        ("a\x00b\n.txt", "ab.txt"),
        ("..", None),
        ("", None),
    ],
)
def test_a_filename_is_reduced_to_a_bare_name(filename, expected):
    assert formats.safe_filename(filename) == expected
