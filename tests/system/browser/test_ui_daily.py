"""The page as people keep it open all day, in real Chromium against the real
service, at desktop and phone width: conversations that survive a restart and
a reload, the quote of a citation on hover or tap, copying with footnotes,
feedback that reaches `silkqa feedback export`, managing documents and asking
only one, plain words for how sure an answer is, the stop button, dark mode,
the API docs offline, and an accessibility pass with axe-core. The screenshots
named in the issue land in tests/artifacts/."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from silkqa.service.answering.generative.backends.remote import RemoteGenerator
from silkqa.service.api.app import create_app
from silkqa.service.conversations.export import eval_items
from silkqa.service.library.live import LiveLibrary
from silkqa.service.runtime import Runtime
from tests.support.browser import DESKTOP, PHONE, ask, axe_violations
from tests.support.live import start_thread
from tests.support.runtimes import runtime_over

pytestmark = pytest.mark.slow

TALENT = "指导意见在人才队伍建设方面有哪些要求？"
NOT_COVERED = "2024年巴黎奥运会男子100米短跑冠军是谁？"
ENGLISH = "What does the 2022 opinion say about green energy cooperation?"
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])


def size_name(size: dict) -> str:
    return "phone" if size["width"] < 500 else "desktop"


@pytest.fixture
def own(start_server, settings, snapshot, embedder, tmp_path):
    """A service over a library and a conversation database of its own."""
    runtime = runtime_over(settings, tmp_path / "index", snapshot, embedder)
    return start_server(create_app(runtime=runtime)), runtime


def open_conversation(server, page) -> dict:
    """The conversation the page shows (its id is in the address), as the API has it."""
    cid = re.search(r"#c=(\w+)", page.url).group(1)
    return api(server, "GET", f"/v1/conversations/{cid}")


def api(server, method, path, **kwargs):
    with server.api() as http:
        r = http.request(method, path, **kwargs)
    assert r.status_code < 300, r.text
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text


# --- conversations ---------------------------------------------------------------------


def test_a_conversation_survives_a_server_restart_and_a_reload(start_server, settings, snapshot, embedder, tmp_path, open_page):
    runtime = runtime_over(settings, tmp_path / "index", snapshot, embedder)
    first = start_server(create_app(runtime=runtime))
    page = open_page(first)
    ask(page, TALENT)
    answered = page.locator("#turns > .turn").first.locator(".a").text_content()
    cid = re.search(r"#c=(\w+)", page.url).group(1)
    page.locator(".conv-item", has_text=TALENT).wait_for()

    first.stop()
    runtime.conversations.close()
    restarted = start_server(create_app(runtime=Runtime.open(runtime.settings, embedder)))
    page.goto(f"{restarted.url}/#c={cid}")
    page.wait_for_selector("#turns > .turn:not(.pending)")
    assert page.locator("#turns > .turn .q").all_text_contents() == [TALENT]
    assert page.locator("#turns > .turn .a").first.text_content() == answered
    assert page.locator(f".conv-item[data-id='{cid}'][aria-current='true']").count() == 1

    page.reload()
    page.wait_for_selector("#turns > .turn:not(.pending)")
    assert page.locator("#turns > .turn .a").first.text_content() == answered


@SIZES
def test_the_conversation_list_renames_exports_and_deletes(own, open_page, artifacts, size):
    server, _ = own
    page = open_page(server, **size)
    ask(page, TALENT)
    ask(page, "那资金方面呢？")
    page.click("#new-conversation") if size is DESKTOP else (page.click("#drawer-button"), page.click("#new-conversation"))
    ask(page, ENGLISH)
    if size is PHONE:
        page.click("#drawer-button")
    items = page.locator("#conversation-list > .conv-item")
    items.nth(1).wait_for()
    assert items.locator(".conv-title").all_text_contents() == [ENGLISH, TALENT], (
        "most recent first, titled by the first question"
    )
    assert items.nth(0).get_attribute("aria-current") == "true"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d · 2 Q", items.nth(1).locator(".conv-when").text_content()), "ISO dates"

    items.nth(1).locator(".conv-action", has_text="Rename").click()
    page.fill(".conv-rename", "人才与资金")
    page.press(".conv-rename", "Enter")
    page.locator(".conv-title", has_text="人才与资金").wait_for()
    page.screenshot(path=artifacts / f"ui-conversations-{size_name(size)}.png")

    with page.expect_download() as download:
        page.locator(".conv-item", has_text="人才与资金").locator(".conv-action", has_text="Export").click()
    markdown = download.value.path().read_text(encoding="utf-8")
    assert markdown.startswith("# 人才与资金\n") and f"## 1. {TALENT}" in markdown and "[^1]: 《" in markdown

    page.locator(".conv-item", has_text="人才与资金").locator(".conv-open").click()
    page.wait_for_selector("#turns > .turn:nth-child(2):not(.pending)")
    assert page.locator("#turns .q").all_text_contents() == [TALENT, "那资金方面呢？"]
    if size is PHONE:
        page.click("#drawer-button")
    page.locator(".conv-item", has_text="人才与资金").locator(".conv-action", has_text="Delete").click()
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.locator(".conv-item", has_text="人才与资金").wait_for(state="detached")
    assert page.locator("#turns > .turn").count() == 0, "the open conversation was the one deleted"
    assert [c["title"] for c in api(server, "GET", "/v1/conversations")["conversations"]] == [ENGLISH]


# --- checking an answer -------------------------------------------------------------------


@SIZES
def test_a_citation_shows_its_quote_on_hover_or_tap(own, open_page, artifacts, size):
    server, _ = own
    page = open_page(server, **size)
    turn = ask(page, TALENT)
    expected = open_conversation(server, page)["turns"][0]["response"]
    cited = expected["citations"][0]
    marker = turn.locator("a.cite[data-marker='1']")
    if size is PHONE:
        marker.tap()
    else:
        marker.hover()
    pop = page.locator("#cite-pop")
    pop.wait_for(state="visible")
    assert pop.locator("#cite-pop-title").text_content() == cited["title"]
    assert pop.locator("#cite-pop-section").text_content() == cited["section"]
    assert pop.locator("#cite-pop-quote").text_content() == cited["quote"]
    assert page.locator("#doc-view").is_hidden(), "previewing does not leave the answer"
    box, view = pop.bounding_box(), page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= view["width"] and box["y"] + box["height"] <= view["height"]
    page.screenshot(path=artifacts / f"ui-answer-popover-{size_name(size)}.png")

    pop.locator("#cite-pop-open").click()
    mark = page.locator("#doc-text mark.hl-primary")
    mark.wait_for()
    assert mark.text_content() == cited["quote"]
    assert pop.is_hidden()


def test_keyboard_focus_on_a_marker_previews_it_and_escape_closes(own, open_page):
    server, _ = own
    page = open_page(server)
    turn = ask(page, TALENT)
    page.focus("#question")
    for _ in range(30):  # back through the answer's controls to its last marker
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.classList.contains('cite')"):
            break
    assert page.evaluate("document.activeElement.classList.contains('cite')")
    page.locator("#cite-pop").wait_for(state="visible")
    last = turn.locator("a.cite").last.get_attribute("data-marker")
    assert page.locator("#cite-pop-marker").text_content() == f"[{last}]"
    page.keyboard.press("Escape")
    page.locator("#cite-pop").wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('cite')")


def test_copy_puts_the_answer_with_footnotes_on_the_clipboard(own, open_page):
    server, _ = own
    page = open_page(server)
    turn = ask(page, TALENT)
    turn.locator("button.copy").click()
    turn.locator(".feedback-status", has_text="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"**{TALENT}**\n\n")
    notes = re.findall(r"^\[\^(\d+)\]: 《.+?》 .*? \(([\w.-]+), characters (\d+)–(\d+)\):\n    “(.*?)”$", copied, re.M | re.S)
    assert len(notes) == turn.locator("a.cite").count() >= 1
    for _, doc_id, start, end, quote in notes:
        text = api(server, "GET", f"/v1/documents/{doc_id}")["text"]
        assert quote.replace("\n    ", "\n") == text[int(start) : int(end)]


def test_feedback_given_in_the_page_is_exported_as_eval_lines(own, open_page):
    server, runtime = own
    page = open_page(server)
    good = ask(page, TALENT)
    refused = ask(page, NOT_COVERED)
    good.locator("button.rate-up").click()
    good.locator(".feedback-status", has_text="Thank you").wait_for()
    assert good.locator("button.rate-up").get_attribute("aria-pressed") == "true"
    good.locator(".more summary").click()
    good.locator("input.flag[value='2']").check()
    good.locator("textarea.comment").fill("第二条引文讲的是人才培养，不是智库")
    good.locator("button.send-feedback").click()
    good.locator(".feedback-status", has_text="Thank you").wait_for()
    refused.locator("button.rate-down").click()
    refused.locator(".feedback-status", has_text="Thank you").wait_for()

    page.reload()  # what was given is shown again
    page.wait_for_selector("#turns > .turn:nth-child(2):not(.pending)")
    assert page.locator("#turns > .turn").nth(0).locator("button.rate-up").get_attribute("aria-pressed") == "true"
    assert page.locator("#turns > .turn").nth(0).locator("input.flag[value='2']").is_checked()

    lines = eval_items(runtime.conversations.feedback(10))
    by_question = {line["question"]: line for line in lines}
    talent, missed = by_question[TALENT], by_question[NOT_COVERED]
    answered = api(server, "GET", "/v1/feedback")["feedback"]
    cited = next(f for f in answered if f["question"] == TALENT)["citations"]
    assert talent["answerable"] is True
    assert [g["quote"] for g in talent["gold"]] == [c["quote"] for c in cited if c["marker"] != 2]
    assert talent["feedback"]["comment"] == "第二条引文讲的是人才培养，不是智库"
    assert missed["answerable"] is True and missed["gold"] == [], "rated down although it abstained: to be reviewed"
    metrics = api(server, "GET", "/metrics")
    assert 'silkqa_feedback_total{flagged="true",rating="up"} 1.0' in metrics


# --- how sure ----------------------------------------------------------------------------------


@SIZES
def test_how_sure_is_said_in_words_with_the_number_in_the_details(own, open_page, artifacts, size):
    server, _ = own
    page = open_page(server, **size)
    covered = ask(page, TALENT)
    assert covered.locator(".meta .verdict-label").text_content() == "Covered by the documents · 文件有依据"
    assert "confidence" not in covered.locator(".meta").text_content()
    assert re.search(r"evidence score 0\.\d\d", covered.locator(".details").text_content())

    refused = ask(page, NOT_COVERED)
    response = open_conversation(server, page)["turns"][1]["response"]
    assert response["abstained"]
    assert refused.get_attribute("data-coverage") == "not_covered"
    assert refused.locator(".meta .verdict-label").text_content() == "Not covered by the documents · 文件未涉及"
    reason = (response.get("abstention") or {}).get("reason")
    if reason:  # the service's own words on what the documents do and do not contain
        assert refused.locator(".verdict .reason").text_content() == reason
    else:
        assert refused.locator(".a").text_content() == response["answer"]
    related = refused.locator(".related-button")
    assert related.text_content().startswith(f"Related passages ({len(response['passages'])})")
    refused.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"ui-abstention-{size_name(size)}.png")
    related.click()
    assert page.locator("#sources-heading").text_content().startswith("Related passages")


def test_answerability_words_follow_the_coverage_fields(own, open_page):
    """The page's reading of `coverage` and `abstention` (the answering stage's
    answerability result), and of a service that gives only `abstained`."""
    server, _ = own
    page = open_page(server)
    read = page.evaluate(
        """async () => {
        const { coverageOf, missingText, sameQuestion, matchesFilter, answerRuns } = await import("/ui/present.js");
        const partial = coverageOf({abstained: false, coverage: {status: "partial", missing: ["坦桑尼亚"], note: null}});
        const refused = coverageOf({abstained: true, passages: [{text: "p"}],
            abstention: {reason: "文件提到了蒙内铁路连接内罗毕和蒙巴萨（肯尼亚），没有提到坦桑尼亚。", missing: ["坦桑尼亚"], related: [{text: "r"}]}});
        return {
          partial, refused, missing: missingText(partial.missing),
          old: [coverageOf({abstained: false}).status, coverageOf({abstained: true, passages: []}).status],
          said: [coverageOf({answer: "文件中没有提到火星。", abstained: true, abstention: {reason: "文件中没有提到火星。", missing: [], related: []}}).reason,
                 coverageOf({answer: "A[1] （文件未涉及：金额。）", coverage: {status: "partial", missing: ["金额"], note: "（文件未涉及：金额。）"}}).note],
          same: [sameQuestion("那资金方面呢？", "那资金方面呢"), sameQuestion("What about funds?", "what about funds ？"),
                 sameQuestion("那资金方面呢？", "指导意见在资金方面有哪些要求？")],
          filter: [matchesFilter({title: "关于推进共建“一带一路”绿色发展的意见", date: "2022-03-28", issuer: "国家发展改革委"}, "2022 发展改革委"),
                   matchesFilter({title: "合作规划", date: "2017-05-12"}, "2022")],
          runs: answerRuns("According to the opinion: 深化绿色清洁能源合作。[1]",
                           [{marker: 1, quote: "深化绿色清洁能源合作。", lang: "zh"}], "en"),
        };
    }"""
    )
    assert read["partial"]["status"] == "partial" and read["missing"] == "Not in the documents · 文件未提及：坦桑尼亚"
    assert read["refused"]["reason"].startswith("文件提到了蒙内铁路") and read["refused"]["related"] == [{"text": "r"}]
    assert read["old"] == ["covered", "not_covered"]
    assert read["said"] == [None, None], "a reason or note the answer text already says is not shown twice"
    assert read["same"] == [True, True, False]
    assert read["filter"] == [True, False]
    assert read["runs"] == [
        {"text": "According to the opinion: "},
        {"text": "深化绿色清洁能源合作。", "lang": "zh-Hans"},
        {"text": "[1]", "marker": 1},
    ]


def test_an_english_answer_marks_its_chinese_quotes(own, open_page):
    server, _ = own
    page = open_page(server)
    turn = ask(page, ENGLISH)
    assert turn.locator(".a").get_attribute("lang") == "en"
    quoted = turn.locator(".a span[lang='zh-Hans']")
    assert quoted.count() >= 1
    assert all(q in turn.locator(".a").text_content() for q in quoted.all_text_contents())


# --- documents ---------------------------------------------------------------------------------


@SIZES
def test_documents_filter_view_original_and_ask_only_one(own, open_page, artifacts, size):
    server, _ = own
    page = open_page(server, **size)
    page.click("#tab-docs")
    page.wait_for_selector("#doc-rows tr")
    assert page.locator("#doc-rows tr").count() == 5
    assert "chunk" not in page.locator("#doc-table").text_content().lower(), "lengths, not index jargon"
    page.fill("#doc-filter", "2017")
    assert page.locator("#doc-rows tr").count() == 2
    assert page.locator("#docs-status").text_content().startswith("2 of 5 documents match")
    page.fill("#doc-filter", "")

    row = page.locator("#doc-rows tr", has_text="关于推进共建“一带一路”绿色发展的意见")
    row.locator(".doc-ask").click()
    assert page.locator("#scope").is_visible() and "绿色发展的意见" in page.locator("#scope-title").text_content()
    turn = ask(page, TALENT)  # a question the 2017 guiding opinion answers better
    response = open_conversation(server, page)["turns"][0]["response"]
    assert response["citations"] and {c["doc_id"] for c in response["citations"]} == {"opinion-2022"}
    assert turn.locator("a.cite").count() == len(response["citations"])

    turn.locator("a.cite").first.click()
    page.locator("#doc-text mark.hl-primary").wait_for()
    page.screenshot(path=artifacts / f"ui-document-{size_name(size)}.png")
    page.click("#show-original")
    original = page.locator("#doc-original mark.hl-primary")
    original.wait_for()
    first = response["citations"][0]
    span = api(server, "GET", f"/v1/documents/opinion-2022/original?start={first['start']}&end={first['end']}")["span"]
    assert original.text_content() == span["original_text"]
    assert page.locator("#show-original").get_attribute("aria-pressed") == "true"
    page.click("#show-clean")
    assert page.locator("#doc-text").is_visible() and page.locator("#doc-original").is_hidden()


def test_an_editor_replaces_and_deletes_a_document_after_confirming(own, open_page):
    server, _ = own
    api(server, "POST", "/v1/documents", json={"text": "澜湄备忘录\n一、目标\n双方共建12个水质监测站。", "doc_id": "memo"})
    page = open_page(server)
    page.click("#tab-docs")
    row = page.locator("#doc-rows tr", has_text="澜湄备忘录")
    row.wait_for()

    row.locator(".doc-replace").click()
    assert page.locator("#upload").get_attribute("open") is not None
    page.fill("#upload-text", "澜湄备忘录\n一、目标\n双方共建15个水质监测站。")
    page.fill("#upload-date", "2024-06-18")
    page.click("#upload-submit")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.locator("#upload-status", has_text="replaced").wait_for(timeout=60_000)
    assert "15个水质监测站" in api(server, "GET", "/v1/documents/memo")["text"]
    assert api(server, "GET", "/v1/documents/memo")["date"] == "2024-06-18"

    row = page.locator("#doc-rows tr", has_text="澜湄备忘录")
    row.locator(".doc-delete").click()
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-cancel")  # a second thought: nothing happens
    assert page.locator("#doc-rows tr", has_text="澜湄备忘录").count() == 1
    row.locator(".doc-delete").click()
    page.click("#confirm-ok")
    page.locator("#docs-status", has_text="Deleted").wait_for(timeout=60_000)
    assert page.locator("#doc-rows tr").count() == 5
    assert "memo" not in {d["doc_id"] for d in api(server, "GET", "/v1/documents")["documents"]}


# --- phone, polish --------------------------------------------------------------------------------


def test_on_a_phone_each_new_answer_is_scrolled_into_view(own, open_page):
    server, _ = own
    page = open_page(server, **PHONE)
    for question in (TALENT, "那资金方面呢？", ENGLISH):
        turn = ask(page, question)
    question_box = turn.locator(".q").bounding_box()
    sticky = page.locator("#ask-form").bounding_box()
    assert page.evaluate("scrollY") > 0, "the page scrolled, not an inner panel"
    assert 0 <= question_box["y"] and question_box["y"] + question_box["height"] <= sticky["y"], "above the sticky box"
    assert turn.locator(".a").bounding_box()["y"] < sticky["y"], "the answer starts in view"


def test_focus_rings_are_not_clipped_and_an_identical_rewrite_is_hidden(own, open_page):
    server, _ = own
    page = open_page(server)
    page.focus("#tab-docs")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus: the ring shows
    ring = page.evaluate(
        """() => { const t = document.querySelector('#tab-docs'), s = getComputedStyle(t), r = t.getBoundingClientRect();
        const h = document.querySelector('.top').getBoundingClientRect();
        const out = parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset);  // < 0: drawn inside the tab
        return {style: s.outlineStyle, top: r.top - out, bottom: r.bottom + out, headerTop: h.top, headerBottom: h.bottom}; }"""
    )
    assert ring["style"] == "solid"
    assert ring["headerTop"] <= ring["top"] and ring["bottom"] <= ring["headerBottom"], ring

    ask(page, TALENT)
    follow = ask(page, "2022年的意见在绿色交通方面要推广哪些交通工具？")  # stands on its own: nothing rewritten
    assert follow.locator(".rewritten").is_hidden()


def test_dark_mode_follows_the_system(own, open_page, axe_source):
    server, _ = own
    page = open_page(server)
    page.emulate_media(color_scheme="dark")
    ask(page, TALENT)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
    assert max(channels) < 60, background
    assert axe_violations(page, axe_source) == []


def test_stop_ends_a_streaming_answer_and_its_generation(start_server, runtime, open_page, page_errors):
    """A slow LLM (an OpenAI-compatible server that writes one sentence, then
    a character every 0.2 s): Stop aborts the stream, and the service stops
    the generation rather than letting it run to its end for nobody."""
    streamed = {"chunks": 0, "finished": False, "cancelled": False}
    llm = FastAPI()

    @llm.post("/v1/chat/completions")
    async def completions(request: Request):
        prompt = (await request.json())["messages"][-1]["content"]
        block = re.split(r"\n\n(?=\[\d+\] )", prompt.split("\n", 1)[1])[0]
        first = re.search(r"[^。；\n]+[。；]", block.split("\n", 1)[1]).group(0)

        async def chunks():
            try:
                pieces = [first + "[1]"] + ["建"] * 150
                for i, piece in enumerate(pieces):
                    streamed["chunks"] += 1
                    yield f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n"
                    await asyncio.sleep(0 if i == 0 else 0.2)
                yield "data: [DONE]\n\n"
                streamed["finished"] = True
            except asyncio.CancelledError:
                streamed["cancelled"] = True
                raise

        return StreamingResponse(chunks(), media_type="text/event-stream")

    llm_server = start_thread(llm)
    try:
        library = LiveLibrary(
            runtime.settings.model_copy(update={"answer_mode": "generative"}),
            runtime.library.current().index,
            runtime.library.embedder,
        )
        server = start_server(create_app(runtime=Runtime(library, RemoteGenerator(f"{llm_server.url}/v1", "slow", timeout=60))))
        page_errors.allowed.append("AbortError")
        page = open_page(server)
        page.fill("#question", TALENT)
        page.press("#question", "Enter")
        turn = page.locator("#turns > .turn").first
        turn.locator(".a a.cite").first.wait_for(timeout=60_000)  # the first sentence arrived
        assert page.locator("#stop-button").is_visible()
        page.click("#stop-button")
        page.wait_for_selector("#turns > .turn.stopped")
        assert "Stopped" in turn.locator(".meta").text_content()
        assert page.locator("#stop-button").is_hidden() and page.locator("#ask-button").is_enabled()
        deadline = time.monotonic() + 10
        while not streamed["cancelled"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert streamed["cancelled"] and not streamed["finished"] and streamed["chunks"] < 100, streamed
    finally:
        llm_server.stop()


# --- the API docs, accessibility ----------------------------------------------------------------


def test_the_api_docs_render_with_the_network_off(live_server, browser, page_errors):
    page = browser.new_page()
    page.on("console", lambda msg: msg.type == "error" and page_errors.messages.append(f"console: {msg.text}"))
    requested = []
    # The network off: anything not on this service fails, and is recorded.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server.url)
            else (requested.append(route.request.url), route.abort())
        ),
    )
    try:
        page.goto(live_server.url + "/docs")
        page.locator(".swagger-ui .opblock-summary-path", has_text="/v1/ask").first.wait_for()
        assert page.locator(".swagger-ui .opblock-tag", has_text="conversations").count() == 1
        # ReDoc's sidebar links its own logo from its makers' site: the CSP stops it (no request leaves).
        page_errors.allowed.append('violates the following Content Security Policy directive: "img-src')
        page.goto(live_server.url + "/redoc")
        page.get_by_text("/v1/conversations").first.wait_for()
        assert requested == []
    finally:
        page.close()
    assert not page_errors.unexpected()


@SIZES
def test_no_serious_accessibility_violations(own, open_page, axe_source, size):
    server, _ = own
    page = open_page(server, **size)
    assert axe_violations(page, axe_source) == [], "the empty page"
    turn = ask(page, TALENT)
    ask(page, NOT_COVERED)
    turn.locator(".more summary").click()
    assert axe_violations(page, axe_source) == [], "answers, abstention, feedback controls"
    turn.locator("a.cite").first.click()
    page.locator("#doc-text mark.hl-primary").wait_for()
    assert axe_violations(page, axe_source) == [], "the document view"
    page.keyboard.press("Escape")
    page.click("#tab-docs")
    page.wait_for_selector("#doc-rows tr")
    assert axe_violations(page, axe_source) == [], "the documents list"
