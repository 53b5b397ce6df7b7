"""The web page in a real headless Chromium against the real service: ask, read
the answer as it arrives, open a citation highlighted in its document;
abstentions, follow-ups, the document list, API keys, keyboard and phone use."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from silkqa.service.api.app import create_app
from tests.support.browser import ask
from tests.support.runtimes import runtime_over

pytestmark = pytest.mark.slow

TALENT = "指导意见在人才队伍建设方面有哪些要求？"
GUIDING_2017 = "关于推进绿色“一带一路”建设的指导意见"
NOT_COVERED = "2024年巴黎奥运会男子100米短跑冠军是谁？"
FOLLOW_UP = "那资金方面呢？"
# Questions whose answers cite two or more passages of one document; the test
# of the lighter highlights takes the first that still does.
MULTI_CITATION = [
    "绿色丝绸之路建设进展报告中提到了哪些可再生能源项目？",
    "2022年的意见提出了哪些主要目标？",
    "合作规划在生物多样性保护方面有哪些措施？",
    "What are the key tasks of the Belt and Road ecological cooperation plan?",
]


# --- helpers ------------------------------------------------------------------


def api_ask(server, question, history=None) -> dict:
    body = {"question": question} | ({"history": history} if history else {})
    with server.api() as http:
        r = http.post("/v1/ask", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def api_document(server, doc_id) -> dict:
    with server.api() as http:
        return http.get(f"/v1/documents/{doc_id}").raise_for_status().json()


def api_stream_events(server, question) -> list[str]:
    """The event names of the service's own stream for ``question``."""
    with server.api() as http, http.stream("POST", "/v1/ask", json={"question": question, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        return [line.removeprefix("event: ") for line in r.iter_lines() if line.startswith("event: ")]


def watch_asks(page) -> list[dict]:
    """Every /v1/ask the page makes: its JSON body and the response's media type."""
    seen: list[dict] = []

    def record(response):
        if response.request.method == "POST" and response.url.endswith("/v1/ask"):
            media = response.headers.get("content-type", "").split(";")[0]
            seen.append({"body": response.request.post_data_json, "type": media, "status": response.status})

    page.on("response", record)
    return seen


def primary_mark(page):
    mark = page.locator("#doc-text mark.hl-primary")
    mark.wait_for()
    assert mark.count() == 1, "the cited span is one highlight"
    return mark


def inside(inner: dict, outer: dict) -> bool:
    return (
        outer["x"] <= inner["x"]
        and outer["y"] <= inner["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    )


# --- the main path ----------------------------------------------------------------


def test_cited_answer_and_its_passage_highlighted_in_the_document(live_server, open_page, artifacts):
    page = open_page(live_server)
    asks = watch_asks(page)
    turn = ask(page, TALENT)
    expected = api_ask(live_server, TALENT)

    # One request, answered as an event stream (the page fell back to nothing), kept in a conversation.
    assert [a["type"] for a in asks] == ["text/event-stream"]
    assert asks[0]["body"] == {"question": TALENT, "stream": True, "conversation_id": asks[0]["body"]["conversation_id"]}
    events = api_stream_events(live_server, TALENT)
    assert events[0] == "meta" and events[-2:] == ["citations", "done"] and "delta" in events

    assert not expected["abstained"]
    assert turn.locator(".a").text_content() == expected["answer"]
    assert turn.locator("a.cite").all_text_contents() == [f"[{c['marker']}]" for c in expected["citations"]]
    first = expected["citations"][0]
    assert first["doc_id"] == "guiding-opinion-2017"

    sources = page.locator("#source-list > .source")
    assert sources.count() == len(expected["citations"])
    assert sources.first.locator(".source-title").text_content() == first["title"] == GUIDING_2017
    assert sources.first.locator(".crumb").text_content() == first["section"]
    assert sources.first.locator(".quote").text_content() == first["quote"]
    page.screenshot(path=artifacts / "ui-answer.png")

    turn.locator("a.cite[data-marker='1']").click()
    mark = primary_mark(page)
    assert mark.text_content() == first["quote"]
    assert (int(mark.get_attribute("data-start")), int(mark.get_attribute("data-end"))) == (first["start"], first["end"])
    assert page.locator("#doc-title").text_content() == GUIDING_2017
    assert " › ".join(page.locator("#doc-crumbs li").all_text_contents()) == first["section"]
    doc = api_document(live_server, "guiding-opinion-2017")
    assert page.locator("#doc-text").text_content() == doc["text"], "the page shows exactly the text the spans index"
    assert doc["text"][first["start"] : first["end"]] == first["quote"]
    assert inside(mark.bounding_box(), page.locator("#doc-text").bounding_box()), "scrolled to the span"
    assert turn.locator("a.cite[aria-current='true']").all_text_contents() == ["[1]"]
    page.screenshot(path=artifacts / "ui-document.png")

    page.click("#doc-back")
    assert page.locator("#doc-view").is_hidden() and page.locator("#sources").is_visible()


def test_the_other_citations_of_the_answer_are_highlighted_lightly(live_server, open_page):
    def same_doc(body):
        return [c for c in body["citations"] if sum(o["doc_id"] == c["doc_id"] for o in body["citations"]) > 1]

    found = next(((q, b) for q in MULTI_CITATION if same_doc(b := api_ask(live_server, q))), None)
    assert found, "no candidate question cites two passages of one document any more: pick another"
    question, expected = found
    cited = same_doc(expected)
    target, others = cited[0], [c for c in cited[1:] if c["doc_id"] == cited[0]["doc_id"]]

    page = open_page(live_server)
    turn = ask(page, question)
    turn.locator(f"a.cite[data-marker='{target['marker']}']").click()
    assert primary_mark(page).text_content() == target["quote"]
    for other in others:
        if other["start"] < target["end"] and target["start"] < other["end"]:
            continue  # overlapping the cited span: that part is shown as the cited span
        lighter = page.locator(f"#doc-text mark.hl-secondary[data-marker='{other['marker']}']")
        assert "".join(lighter.all_text_contents()) == other["quote"]

    # Clicking a lighter highlight makes that citation the one in focus.
    switch = others[-1]
    page.locator(f"#doc-text mark.hl-secondary[data-marker='{switch['marker']}']").first.click()
    page.wait_for_selector(f"#doc-text mark.hl-primary[data-marker='{switch['marker']}']")
    assert primary_mark(page).text_content() == switch["quote"]


def test_a_broken_stream_falls_back_to_the_plain_answer(live_server, open_page, page_errors):
    page_errors.allowed.append("net::ERR_FAILED")  # the browser logs the cut request
    page = open_page(live_server)
    asks = watch_asks(page)
    # A proxy that cuts event streams: the streaming request fails on the network.
    page.route(
        "**/v1/ask",
        lambda route: route.abort() if (route.request.post_data_json or {}).get("stream") else route.continue_(),
    )
    turn = ask(page, TALENT)
    expected = api_ask(live_server, TALENT)
    assert [{k: v for k, v in a["body"].items() if k != "conversation_id"} for a in asks] == [{"question": TALENT}]
    assert asks[0]["type"] == "application/json"
    assert turn.locator(".a").text_content() == expected["answer"]
    assert page.locator("#source-list > .source").count() == len(expected["citations"])


def test_abstention_is_shown_as_such_with_related_passages(live_server, open_page):
    expected = api_ask(live_server, NOT_COVERED)
    assert expected["abstained"] and expected["passages"]

    page = open_page(live_server)
    turn = ask(page, NOT_COVERED)
    assert "abstained" in turn.get_attribute("class")
    assert turn.locator(".meta .verdict-label").text_content() == "Not covered by the documents · 文件未涉及"
    assert turn.locator(".a").text_content() == expected["answer"]
    assert turn.locator("a.cite").count() == 0
    assert page.locator("#sources-heading").text_content().startswith("Related passages")
    items = page.locator("#source-list > .source")
    assert items.locator(".quote").all_text_contents() == [p["text"] for p in expected["passages"]]
    assert items.locator(".marker").count() == 0, "related passages are not citations"

    items.first.locator(".source-open").click()
    passage = expected["passages"][0]
    mark = primary_mark(page)
    assert mark.text_content() == passage["text"]
    assert page.locator("#doc-title").text_content() == passage["title"]


def test_follow_up_sends_the_conversation_and_shows_the_standalone_question(live_server, open_page):
    page = open_page(live_server)
    asks = watch_asks(page)
    first = ask(page, TALENT)
    assert asks[-1]["body"].get("history") is None
    assert first.locator(".rewritten").is_hidden(), "a first question needs no rewriting"

    second = ask(page, FOLLOW_UP)
    history = [{"role": "user", "content": TALENT}, {"role": "assistant", "content": first.locator(".a").text_content()}]
    assert asks[-1]["body"]["history"] == history
    expected = api_ask(live_server, FOLLOW_UP, history)
    rewritten = expected["rewritten_question"]
    assert rewritten and rewritten != FOLLOW_UP and "资金" in rewritten, "the service makes the follow-up standalone"
    assert second.locator(".rewritten-text").text_content() == rewritten
    assert second.locator(".a").text_content() == expected["answer"]
    assert "active" in second.get_attribute("class")

    # Sources follow the turn in focus; a new conversation forgets the history.
    first.locator(".q").click()
    assert page.locator("#source-list .quote").first.text_content() == api_ask(live_server, TALENT)["citations"][0]["quote"]
    page.click("#new-conversation")
    assert page.locator("#turns > .turn").count() == 0
    ask(page, FOLLOW_UP)
    assert asks[-1]["body"].get("history") is None


# --- documents and keys ------------------------------------------------------------


def test_document_list_shows_every_document_and_opens_it(live_server, open_page):
    with live_server.api() as http:
        documents = http.get("/v1/documents").json()["documents"]
    page = open_page(live_server)
    page.click("#tab-docs")
    page.wait_for_selector("#doc-rows tr")
    rows = page.locator("#doc-rows tr")
    assert rows.count() == len(documents) == 5
    for i, doc in enumerate(documents):
        cells = rows.nth(i).locator("td")
        assert cells.nth(0).locator(".doc-open").text_content() == doc["title"]
        assert cells.nth(1).text_content() == (doc["issuer"] or "—")
        assert cells.nth(2).text_content() == (doc["date"] or "—")
        assert cells.nth(3).text_content() == f"{doc['length']:,} 字"

    rows.nth(1).locator(".doc-open").click()
    page.locator("#doc-title", has_text=documents[1]["title"]).wait_for()
    assert page.locator("#doc-text").text_content() == api_document(live_server, documents[1]["doc_id"])["text"]
    assert page.locator("#doc-text mark").count() == 0


READER_KEY = "sq_reader_key_for_the_browser_test"


@pytest.fixture(scope="module")
def keyed_server(start_server, runtime):
    settings = runtime.settings.model_copy(update={"api_keys": SecretStr(f"analyst:reader:{READER_KEY}")})
    return start_server(create_app(settings=settings, runtime=runtime))


def test_a_service_with_keys_asks_for_one_and_keeps_it_in_the_session(keyed_server, open_page, page_errors):
    page_errors.allowed += ["401", "403"]  # the browser logs the refused requests
    page = open_page(keyed_server)
    page.fill("#question", TALENT)
    page.press("#question", "Enter")
    page.wait_for_selector("#key-dialog[open]")
    page.fill("#key-input", READER_KEY)
    page.press("#key-input", "Enter")
    turn = page.locator("#turns > .turn:not(.pending):not(.failed)")
    turn.wait_for()
    assert turn.locator("a.cite").count() >= 1
    assert page.evaluate("sessionStorage.getItem('silkqa.apiKey')") == READER_KEY
    assert page.evaluate("JSON.stringify(localStorage)") == "{}", "the key never outlives the session"

    # A reader's key cannot add documents: the page says an editor key is needed.
    page.click("#tab-docs")
    page.wait_for_selector("#doc-rows tr")
    page.locator("#upload summary").click()
    page.fill("#upload-text", "测试文本。")
    page.fill("#upload-title", "测试")
    page.click("#upload-form button[type=submit]")
    page.locator("#upload-status", has_text="needs an editor key").wait_for()


EDITOR_KEY = "sq_editor_key_for_the_browser_test"
MEMO = """澜湄流域绿色发展合作备忘录
2024年6月18日
一、合作目标
（一）共建流域监测网络。双方同意在澜沧江—湄公河流域共建12个水质自动监测站，每季度交换一次监测数据。
二、保障措施
设立联合工作组，每年召开一次部长级会议，评估合作进展并发布年度报告。"""


@pytest.fixture
def editor_server(snapshot, start_server, settings, embedder, tmp_path):
    """A service with an editor key over its own copy of the session index."""
    keyed = runtime_over(settings, tmp_path / "index", snapshot, embedder, api_keys=SecretStr(f"editor-1:editor:{EDITOR_KEY}"))
    return start_server(create_app(runtime=keyed))


def test_an_editor_uploads_a_file_and_its_passages_are_cited(editor_server, open_page, page_errors):
    page_errors.allowed.append("401")
    page = open_page(editor_server)
    page.click("#tab-docs")
    page.wait_for_selector("#key-dialog[open]")  # the list itself needs a key here
    page.fill("#key-input", EDITOR_KEY)
    page.press("#key-input", "Enter")
    page.wait_for_selector("#doc-rows tr")
    assert page.locator("#doc-rows tr").count() == 5

    page.locator("#upload summary").click()
    page.set_input_files("#upload-file", files=[{"name": "memo.txt", "mimeType": "text/plain", "buffer": MEMO.encode()}])
    page.click("#upload-form button[type=submit]")
    page.locator("#upload-status", has_text="added").wait_for(timeout=60_000)
    page.locator("#doc-rows tr", has_text="澜湄流域绿色发展合作备忘录").wait_for()
    assert page.locator("#doc-rows tr").count() == 6

    page.click("#tab-ask")
    turn = ask(page, "澜湄流域要共建多少个水质自动监测站？")
    turn.locator("a.cite[data-marker='1']").click()
    assert "12个水质自动监测站" in primary_mark(page).text_content()
    assert page.locator("#doc-title").text_content() == "澜湄流域绿色发展合作备忘录"


# --- keyboard, phones, typography, layout stability ------------------------------------


def test_keyboard_only(live_server, open_page):
    page = open_page(live_server)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "question"
    page.keyboard.type(TALENT)
    page.keyboard.press("Shift+Enter")  # a line break, not a submission
    assert page.locator("#turns > .turn").count() == 0
    page.keyboard.press("Backspace")
    page.keyboard.press("Enter")
    page.wait_for_selector("#turns > .turn:not(.pending)")

    for _ in range(30):  # from the box back, past the answer's feedback controls, to its last marker
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.className") == "cite":
            break
    assert page.evaluate("document.activeElement.className") == "cite"
    page.keyboard.press("Enter")
    primary_mark(page)
    assert page.evaluate("document.activeElement.classList.contains('hl-primary')")
    page.keyboard.press("Escape")
    assert page.locator("#doc-view").is_hidden()
    assert page.evaluate("document.activeElement.className") == "cite", "focus returns to the marker"


def test_phone_width(live_server, open_page, artifacts):
    page = open_page(live_server, width=390, height=844)
    ask(page, TALENT)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing overflows sideways"
    assert page.locator("#key-button").bounding_box()["x"] + page.locator("#key-button").bounding_box()["width"] <= 390
    page.locator("#turns a.cite").first.click()
    mark = primary_mark(page)
    assert page.locator("#doc-view").bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}, "a full sheet"
    assert inside(mark.bounding_box(), {"x": 0, "y": 0, "width": 390, "height": 844})
    page.screenshot(path=artifacts / "ui-phone-document.png")
    page.keyboard.press("Escape")
    assert page.locator("#doc-view").is_hidden()


def test_chinese_typography(live_server, open_page):
    page = open_page(live_server)
    turn = ask(page, TALENT)
    style = turn.locator(".a").evaluate(
        "a => { const s = getComputedStyle(a); return {lang: a.lang, font: s.fontFamily, size: parseFloat(s.fontSize),"
        " height: parseFloat(s.lineHeight)}; }"
    )
    assert style["lang"] == "zh-Hans"
    assert "Noto Sans CJK SC" in style["font"] and "Microsoft YaHei" in style["font"] and "PingFang SC" in style["font"]
    assert 1.6 <= style["height"] / style["size"] <= 2.0


def test_no_layout_shift_while_an_answer_arrives(live_server, open_page):
    page = open_page(live_server)
    ask(page, TALENT)
    page.evaluate(
        "() => { window.shifts = []; new PerformanceObserver((list) => {"
        " for (const e of list.getEntries()) window.shifts.push(e.value); }).observe({type: 'layout-shift'}); }"
    )
    # Submitted from script, so the browser does not excuse shifts as following user input.
    page.evaluate(
        "q => { document.querySelector('#question').value = q; document.querySelector('#ask-form').requestSubmit(); }",
        FOLLOW_UP,
    )
    page.wait_for_selector("#turns > .turn:nth-child(2):not(.pending)")
    page.wait_for_timeout(300)  # let the observer report
    assert sum(page.evaluate("window.shifts")) < 0.01


# --- the page's pure parts, run in the browser ---------------------------------------------


def test_event_stream_parser(live_server, open_page):
    page = open_page(live_server)
    events = page.evaluate(
        """async () => {
        const { SSEParser } = await import("/ui/sse.js");
        const parser = new SSEParser();
        const chunks = ['event: meta\\r\\ndata: {"q":1}\\r', '\\n\\r\\nevent: delta\\r\\nda',
                        'ta: line one\\r\\ndata: line two\\r\\n\\r\\n: keep-alive\\n\\n', 'event: done\\ndata: {}'];
        return chunks.flatMap((c) => parser.push(c)).concat(parser.finish());
    }"""
    )
    assert events == [
        {"event": "meta", "data": '{"q":1}'},
        {"event": "delta", "data": "line one\nline two"},
        {"event": "done", "data": "{}"},
    ]


def test_highlight_segments(live_server, open_page):
    page = open_page(live_server)
    runs = page.evaluate(
        """async () => {
        const { segments } = await import("/ui/highlight.js");
        return segments(20, {start: 5, end: 10, marker: 1},
                        [{start: 8, end: 14, marker: 2}, {start: 12, end: 16, marker: 3}, {start: 3, end: 3, marker: 4},
                         {start: 18, end: 25, marker: 5}]);
    }"""
    )
    assert runs == [
        {"start": 0, "end": 5, "kind": "plain"},
        {"start": 5, "end": 10, "kind": "primary", "marker": 1},
        {"start": 10, "end": 14, "kind": "secondary", "marker": 2},
        {"start": 14, "end": 16, "kind": "secondary", "marker": 3},
        {"start": 16, "end": 20, "kind": "plain"},
    ]
