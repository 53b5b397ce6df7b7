// silkqa web page: ask, read the cited answer, open each citation in its
// document. It uses only the public HTTP API, like any other client.

import { readEvents } from "/ui/sse.js";
import { renderHighlighted } from "/ui/highlight.js";

const KEY_STORAGE = "silkqa.apiKey";
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const langOf = (text) => (/[\u3400-\u9fff]/.test(text) ? "zh-Hans" : "en");
const SOURCES_HINT = $("sources-note").textContent;
const splitSection = (section) => (section ? section.split(" › ").filter(Boolean) : []);

const state = {
  key: sessionStorage.getItem(KEY_STORAGE),
  turns: [],
  active: -1, // the turn whose sources the side panel shows
  busy: false,
  documents: new Map(), // doc_id -> Promise of the document detail
  docRequest: 0, // the latest document opened wins a race between clicks
  docTurn: -1,
  returnFocus: null,
  afterKey: null,
};

// ---------------------------------------------------------------- HTTP ----

class Problem extends Error {
  constructor(status, title, detail) {
    super(detail || title);
    Object.assign(this, { status, title, detail });
  }
}

async function problemOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not a problem document: the status line is all there is
  }
  return new Problem(response.status, body.title || response.statusText || "Error", body.detail || "");
}

function call(path, { method = "GET", json, body, headers = {} } = {}) {
  const h = { ...headers };
  if (state.key) h.Authorization = `Bearer ${state.key}`;
  if (json !== undefined) {
    h["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  return fetch(path, { method, headers: h, body });
}

async function callJson(path, options) {
  const response = await call(path, options);
  if (!response.ok) throw await problemOf(response);
  return response.json();
}

function problemText(problem) {
  if (problem.status === 401) return "This service needs an API key · 需要 API 密钥。";
  if (problem.status === 403) return "Your API key does not allow this · 当前密钥无此权限。";
  if (problem instanceof Problem) return `${problem.title}${problem.detail ? ": " + problem.detail : ""}`;
  return `The service could not be reached · 无法连接服务 (${problem.message})`;
}

// ------------------------------------------------------------ API key ----

function showKeyState() {
  $("key-button").textContent = state.key ? "API key ✓" : "API key";
  $("key-forget").disabled = !state.key;
}

function askForKey(reason, then = null) {
  state.afterKey = then;
  $("key-reason").textContent = reason || "";
  $("key-reason").hidden = !reason;
  $("key-input").value = "";
  $("key-dialog").showModal();
  $("key-input").focus();
}

function setupKeyDialog() {
  const dialog = $("key-dialog");
  $("key-button").addEventListener("click", () => askForKey(null));
  $("key-cancel").addEventListener("click", () => dialog.close());
  $("key-forget").addEventListener("click", () => {
    state.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    showKeyState();
    dialog.close();
  });
  $("key-form").addEventListener("submit", () => {
    const key = $("key-input").value.trim();
    if (!key) return;
    state.key = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    showKeyState();
    const then = state.afterKey;
    state.afterKey = null;
    if (then) queueMicrotask(then);
  });
  showKeyState();
}

// ----------------------------------------------------------- answering ----

function history() {
  return state.turns
    .filter((t) => t.done && !t.error)
    .flatMap((t) => [
      { role: "user", content: t.question },
      { role: "assistant", content: t.answer },
    ]);
}

function newTurn(question, followUp) {
  const turn = {
    question, followUp, answer: "", rewritten: null, mode: null,
    abstained: false, citations: [], passages: [], confidence: null, timings: null,
    done: false, error: null, index: state.turns.length, frame: 0,
  };
  const rewritten = el("p", { className: "rewritten" });
  // A follow-up reserves the line for its standalone question up front, so
  // the answer below does not move when the rewrite arrives.
  rewritten.hidden = !followUp;
  rewritten.append("Standalone question · 理解为：", el("span", { className: "rewritten-text", textContent: "…" }));
  // Everything that changes while the answer arrives sits above the answer
  // in fixed-height lines, so the growing answer is the only thing that moves.
  turn.el = el(
    "li", { className: "turn pending" },
    el("p", { className: "q", lang: langOf(question), textContent: question }),
    rewritten,
    el("p", { className: "meta", textContent: "Answering… · 正在回答…" }),
    el("div", { className: "a", lang: langOf(question) }),
    el("p", { className: "verdict", hidden: true }),
  );
  turn.el.dataset.turn = turn.index;
  turn.el.setAttribute("aria-busy", "true"); // screen readers wait for the whole answer
  state.turns.push(turn);
  $("turns").append(turn.el);
  $("welcome").hidden = true;
  $("conversation").scrollTop = $("conversation").scrollHeight;
  $("new-conversation").disabled = false;
  return turn;
}

function answerNodes(turn) {
  const nodes = [];
  let last = 0;
  for (const m of turn.answer.matchAll(/\[(\d+)\]/g)) {
    nodes.push(turn.answer.slice(last, m.index));
    nodes.push(el("a", {
      className: "cite", href: `#src-${turn.index}-${m[1]}`, textContent: m[0],
      title: `Open source ${m[1]} in its document`,
    }));
    nodes.at(-1).dataset.marker = m[1];
    last = m.index + m[0].length;
  }
  nodes.push(turn.answer.slice(last));
  return nodes;
}

// Runs a change to the conversation, keeping its end in view if the reader was
// at the end (someone who scrolled up to re-read is left where they are).
function keepingEnd(change) {
  const conv = $("conversation");
  const following = conv.scrollHeight - conv.scrollTop - conv.clientHeight < 48;
  change();
  if (following) conv.scrollTop = conv.scrollHeight;
}

function renderAnswer(turn) {
  turn.frame = 0;
  const answer = turn.el.querySelector(".a");
  answer.lang = langOf(turn.answer || turn.question); // an English answer may quote Chinese
  keepingEnd(() => answer.replaceChildren(...answerNodes(turn)));
}

function scheduleRender(turn) {
  if (!turn.frame) turn.frame = requestAnimationFrame(() => renderAnswer(turn));
}

function applyMeta(turn, meta) {
  turn.mode = meta.mode || turn.mode;
  turn.rewritten = meta.rewritten_question || null;
  if (turn.followUp) {
    turn.el.querySelector(".rewritten-text").textContent = turn.rewritten || turn.question;
    turn.el.querySelector(".rewritten-text").lang = langOf(turn.rewritten || turn.question);
  }
}

function applyCitations(turn, body) {
  turn.abstained = Boolean(body.abstained);
  turn.citations = body.citations || [];
  turn.passages = body.passages || [];
  if (turn.abstained) {
    const verdict = turn.el.querySelector(".verdict");
    verdict.replaceChildren(
      el("strong", { textContent: "The documents do not cover this · 文档未涉及此问题" }),
      " ",
      el("button", {
        type: "button", className: "link related-button",
        textContent: `Related passages (${turn.passages.length}) · 相关段落`,
      }),
    );
    keepingEnd(() => (verdict.hidden = false));
  }
  turn.el.classList.toggle("abstained", turn.abstained);
  setActive(turn.index, true);
}

function applyDone(turn, done) {
  turn.done = true;
  turn.confidence = done.confidence ?? null;
  turn.timings = done.timings_ms || null;
  const ms = turn.timings ? Object.values(turn.timings).reduce((a, b) => a + b, 0) : null;
  const parts = [turn.mode ? `${turn.mode} answer` : "answer"];
  if (turn.confidence !== null) parts.push(`confidence ${turn.confidence.toFixed(2)}`);
  if (ms !== null) parts.push(`${Math.round(ms)} ms`);
  turn.el.querySelector(".meta").textContent = parts.join(" · ");
  turn.el.classList.remove("pending");
  turn.el.removeAttribute("aria-busy");
}

function applyJson(turn, body) {
  applyMeta(turn, { mode: body.mode, rewritten_question: body.rewritten_question });
  turn.answer = body.answer;
  renderAnswer(turn);
  applyCitations(turn, body);
  applyDone(turn, body);
}

function failTurn(turn, problem) {
  turn.error = problem;
  turn.el.classList.remove("pending");
  turn.el.removeAttribute("aria-busy");
  turn.el.classList.add("failed");
  const meta = turn.el.querySelector(".meta");
  meta.textContent = problemText(problem);
  meta.setAttribute("role", "alert");
}

// Streams the answer; true when it arrived whole. A server-reported failure
// (an `error` event) is thrown as a Problem; a stream that breaks off returns
// false so the caller can fall back to the plain JSON request.
async function streamInto(turn, response) {
  let complete = false;
  try {
    for await (const { event, data } of readEvents(response)) {
      const payload = JSON.parse(data);
      if (event === "meta") applyMeta(turn, payload);
      else if (event === "delta") {
        turn.answer += payload.text;
        scheduleRender(turn);
      } else if (event === "citations") {
        renderAnswer(turn);
        applyCitations(turn, payload);
      } else if (event === "done") {
        applyDone(turn, payload);
        complete = true;
      } else if (event === "error") {
        throw new Problem(payload.status || 500, payload.title || "Error", payload.detail || "");
      }
    }
  } catch (err) {
    if (err instanceof Problem) throw err;
    return false;
  }
  return complete;
}

// The streamed answer when the service offers one; false when it does not
// (it ignored or rejected the flag, the connection failed or broke off), so the
// caller asks again without streaming. Refusals and server errors are thrown.
async function tryStream(turn, body) {
  let response;
  try {
    response = await call("/v1/ask", {
      method: "POST",
      json: { ...body, stream: true },
      headers: { Accept: "text/event-stream, application/json" },
    });
  } catch {
    return false;
  }
  if (response.status === 401 || response.status === 403) throw await problemOf(response);
  const type = response.headers.get("content-type") || "";
  if (response.ok && type.startsWith("text/event-stream")) return streamInto(turn, response);
  if (response.ok && type.includes("json")) {
    // A service without streaming answers with the whole JSON at once.
    applyJson(turn, await response.json());
    return true;
  }
  return false;
}

async function ask(question) {
  const prior = history();
  const turn = newTurn(question, prior.length > 0);
  const body = { question };
  if (prior.length) body.history = prior;
  setBusy(true);
  try {
    if (!(await tryStream(turn, body))) {
      turn.answer = "";
      applyJson(turn, await callJson("/v1/ask", { method: "POST", json: body }));
    }
  } catch (problem) {
    failTurn(turn, problem);
    if (problem.status === 401) {
      askForKey("This service needs an API key to answer questions. · 该服务需要 API 密钥。", () => {
        turn.el.remove();
        state.turns.splice(turn.index, 1);
        ask(question);
      });
    }
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  state.busy = busy;
  $("ask-button").disabled = busy;
  $("ask-form").setAttribute("aria-busy", String(busy));
}

function newConversation() {
  state.turns = [];
  state.active = -1;
  $("turns").replaceChildren();
  $("welcome").hidden = false;
  $("new-conversation").disabled = true;
  closeDocument();
  renderSources(null);
  $("question").focus();
}

function setupAsk() {
  const box = $("question");
  $("ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const question = box.value.trim();
    if (!question || state.busy) return;
    box.value = "";
    showView("ask");
    ask(question);
  });
  box.addEventListener("keydown", (e) => {
    // Enter while an input method is composing (pinyin, etc.) picks a
    // candidate; it must not send the half-typed question.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("examples").addEventListener("click", (e) => {
    const example = e.target.closest(".example");
    if (!example) return;
    box.value = example.textContent;
    $("ask-form").requestSubmit();
  });
  $("new-conversation").addEventListener("click", newConversation);
  $("turns").addEventListener("click", (e) => {
    const turnEl = e.target.closest(".turn");
    if (!turnEl) return;
    const index = Number(turnEl.dataset.turn);
    const cite = e.target.closest("a.cite");
    if (cite) {
      e.preventDefault();
      openCitation(index, Number(cite.dataset.marker), cite);
    } else if (e.target.closest(".related-button")) {
      setActive(index);
      closeDocument();
      $("source-list").querySelector("button")?.focus();
      $("side").scrollIntoView({ block: "start" });
    } else setActive(index);
  });
}

// ------------------------------------------------------------- sources ----

// Shows a turn's sources in the side panel; `refresh` re-renders them when the
// turn is already the one shown (its citations just arrived).
function setActive(index, refresh = false) {
  if (state.active === index && !refresh) return;
  state.active = index;
  for (const t of state.turns) t.el.classList.toggle("active", t.index === index);
  renderSources(state.turns[index] || null);
}

function sourceItem(turn, item, marker) {
  const text = item.quote ?? item.text;
  const open = el("button", { type: "button", className: "source-open" });
  if (marker !== null) open.append(el("span", { className: "marker", textContent: `[${marker}]` }), " ");
  open.append(el("span", { className: "source-title", lang: langOf(item.title), textContent: item.title }));
  const li = el(
    "li", { className: "source" },
    open,
    el("p", { className: "crumb", lang: langOf(item.section), textContent: item.section || "—" }),
    el("blockquote", { className: "quote", lang: langOf(text), textContent: text }),
  );
  if (marker !== null) li.id = `src-${turn.index}-${marker}`;
  li.addEventListener("click", () => (marker !== null
    ? openCitation(turn.index, marker, open)
    : openDocument(item.doc_id, { primary: { start: item.start, end: item.end }, section: item.section, returnTo: open })));
  return li;
}

function renderSources(turn) {
  const list = $("source-list");
  const note = $("sources-note");
  if (!turn) {
    $("sources-heading").textContent = "Sources · 来源";
    note.textContent = SOURCES_HINT;
    list.replaceChildren();
    return;
  }
  if (turn.abstained) {
    $("sources-heading").textContent = "Related passages · 相关段落";
    note.textContent = "Not an answer: the documents do not cover this question. These are the closest passages. · 仅供参考。";
    list.replaceChildren(...turn.passages.map((p) => sourceItem(turn, p, null)));
  } else {
    $("sources-heading").textContent = "Sources · 来源";
    note.textContent = turn.citations.length ? "" : "This answer cites no passages.";
    list.replaceChildren(...turn.citations.map((c) => sourceItem(turn, c, c.marker)));
  }
  note.hidden = !note.textContent;
}

// ------------------------------------------------------------ document ----

function fetchDocument(docId) {
  if (!state.documents.has(docId)) {
    const request = callJson(`/v1/documents/${encodeURIComponent(docId)}`);
    request.catch(() => state.documents.delete(docId)); // a failure is not cached
    state.documents.set(docId, request);
  }
  return state.documents.get(docId);
}

function openCitation(turnIndex, marker, returnTo) {
  const turn = state.turns[turnIndex];
  const citation = turn?.citations.find((c) => c.marker === marker);
  if (!citation) return; // still streaming: the citations come after the text
  setActive(turnIndex);
  const others = turn.citations.filter((c) => c !== citation && c.doc_id === citation.doc_id);
  openDocument(citation.doc_id, { primary: citation, others, section: citation.section, turn: turnIndex, returnTo });
  markShown(turn.el.querySelectorAll(`a.cite[data-marker="${marker}"]`));
}

// The answer's markers of the citation the document view shows.
function markShown(links) {
  for (const link of document.querySelectorAll("a.cite[aria-current]")) link.removeAttribute("aria-current");
  for (const link of links) link.setAttribute("aria-current", "true");
}

async function openDocument(docId, { primary = null, others = [], section = "", turn = -1, returnTo = null } = {}) {
  const request = ++state.docRequest;
  state.docTurn = turn;
  markShown([]);
  if (returnTo) state.returnFocus = returnTo;
  const view = $("doc-view");
  const textBox = $("doc-text");
  $("sources").hidden = true;
  view.hidden = false;
  document.body.classList.add("doc-open");
  const crumbs = splitSection(section);
  $("doc-crumbs").replaceChildren(...crumbs.map((c) => el("li", { lang: langOf(c), textContent: c })));
  $("doc-crumbs").hidden = crumbs.length === 0;
  let doc;
  try {
    doc = await fetchDocument(docId);
  } catch (problem) {
    if (request !== state.docRequest) return;
    $("doc-title").textContent = docId;
    textBox.replaceChildren(el("p", { className: "error", role: "alert", textContent: problemText(problem) }));
    return;
  }
  if (request !== state.docRequest) return;
  $("doc-title").textContent = doc.title;
  $("doc-title").lang = langOf(doc.title);
  const meta = [doc.issuer, doc.date, doc.doc_number, `${doc.chunk_count} chunks`].filter(Boolean);
  $("doc-meta").textContent = meta.join(" · ");
  textBox.lang = langOf(doc.text.slice(0, 500));
  const mark = renderHighlighted(textBox, doc.text, primary, others);
  if (mark) {
    textBox.scrollTop = mark.offsetTop - textBox.clientHeight / 3;
    mark.focus({ preventScroll: true });
  } else {
    textBox.scrollTop = 0;
    textBox.focus({ preventScroll: true });
  }
}

function closeDocument() {
  if ($("doc-view").hidden) return;
  state.docRequest++;
  markShown([]);
  $("doc-view").hidden = true;
  $("sources").hidden = false;
  document.body.classList.remove("doc-open");
  const back = state.returnFocus;
  state.returnFocus = null;
  if (back && back.isConnected) back.focus();
}

function setupDocument() {
  $("doc-back").addEventListener("click", closeDocument);
  // A lighter mark is another citation of the same answer: make it the focus.
  const switchTo = (e) => {
    const mark = e.target.closest("mark.hl-secondary[data-marker]");
    if (!mark || state.docTurn < 0) return;
    e.preventDefault();
    openCitation(state.docTurn, Number(mark.dataset.marker), null);
  };
  $("doc-text").addEventListener("click", switchTo);
  $("doc-text").addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && switchTo(e));
}

// ----------------------------------------------------------- documents ----

let documentsLoaded = false;

async function loadDocuments() {
  const status = $("docs-status");
  status.textContent = "Loading… · 加载中…";
  try {
    const { documents } = await callJson("/v1/documents");
    $("doc-rows").replaceChildren(...documents.map(documentRow));
    status.textContent = `${documents.length} documents · 共 ${documents.length} 份文件`;
    documentsLoaded = true;
  } catch (problem) {
    status.textContent = problemText(problem);
    if (problem.status === 401) askForKey("This service needs an API key to list documents. · 需要 API 密钥。", loadDocuments);
  }
}

function documentRow(doc) {
  const open = el("button", { type: "button", className: "link doc-open", lang: langOf(doc.title), textContent: doc.title });
  open.addEventListener("click", () => openDocument(doc.doc_id, { returnTo: open }));
  const title = el("td", { className: "doc-name" }, open);
  if (doc.title_en) title.append(el("span", { className: "muted title-en", textContent: doc.title_en }));
  const cell = (className, label, text) => {
    const td = el("td", { className, lang: langOf(text), textContent: text });
    td.dataset.label = label; // shown before the value when the table is stacked on a phone
    return td;
  };
  return el(
    "tr", {},
    title,
    cell("issuer", "Issuer · 发布机构", doc.issuer || "—"),
    cell("date", "Date · 日期", doc.date || "—"),
    cell("num", "Chunks · 段数", String(doc.chunk_count)),
  );
}

async function uploadOffered() {
  // Offer the upload form when the service has the route (older services
  // and read-only deployments do not).
  try {
    const response = await fetch("/openapi.json");
    if (!response.ok) return true;
    return Boolean((await response.json()).paths?.["/v1/documents"]?.post);
  } catch {
    return true;
  }
}

// A chosen file goes up as it is (the service reads .txt .md .html .pdf
// .docx); pasted text goes as JSON. Metadata left empty is for the service to
// take from the text (the title from the first line, a date line, …).
function uploadRequest() {
  const fields = Object.entries({
    title: $("upload-title").value.trim(),
    issuer: $("upload-issuer").value.trim(),
    date: $("upload-date").value,
  }).filter(([, value]) => value);
  const file = $("upload-file").files[0];
  if (file) {
    const form = new FormData();
    form.append("file", file);
    for (const [name, value] of fields) form.append(name, value);
    return { method: "POST", body: form };
  }
  const text = $("upload-text").value;
  return text.trim() ? { method: "POST", json: { text, ...Object.fromEntries(fields) } } : null;
}

async function upload(e) {
  e.preventDefault();
  const status = $("upload-status");
  const request = uploadRequest();
  if (!request) {
    status.textContent = "Choose a file or paste the text. · 请选择文件或粘贴全文。";
    return;
  }
  const button = $("upload-form").querySelector("button[type=submit]");
  button.disabled = true;
  status.textContent = "Uploading and indexing… · 上传并建立索引中…";
  try {
    const added = await callJson("/v1/documents", request);
    state.documents.clear(); // a replaced document must not be shown from the cache
    status.textContent = `${added.action}: ${added.title || added.doc_id} (${added.doc_id}, ${added.chunk_count} chunks) · 已完成`;
    $("upload-form").reset();
    loadDocuments();
  } catch (problem) {
    status.textContent = [404, 405].includes(problem.status)
      ? "This service does not accept uploads. · 该服务不接受上传。"
      : problem.status === 403 ? "Uploading needs an editor key. · 上传需要编辑者密钥。" : problemText(problem);
    if (problem.status === 401) askForKey("Uploading needs an editor key. · 上传需要编辑者密钥。", () => $("upload-form").requestSubmit());
  } finally {
    button.disabled = false;
  }
}

function setupDocuments() {
  $("upload-form").addEventListener("submit", upload);
  uploadOffered().then((offered) => ($("upload").hidden = !offered));
}

// --------------------------------------------------------------- views ----

function showView(name) {
  const docs = name === "docs";
  $("ask-view").hidden = docs;
  $("docs-view").hidden = !docs;
  $("tab-ask").setAttribute("aria-pressed", String(!docs));
  $("tab-docs").setAttribute("aria-pressed", String(docs));
  if (docs && !documentsLoaded) loadDocuments();
}

function setupViews() {
  $("tab-ask").addEventListener("click", () => showView("ask"));
  $("tab-docs").addEventListener("click", () => showView("docs"));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("key-dialog").open && !$("doc-view").hidden) {
      e.preventDefault();
      closeDocument();
    } else if (e.key === "/" && !e.target.closest("input, textarea, [contenteditable]") && !$("key-dialog").open) {
      e.preventDefault();
      showView("ask");
      $("question").focus();
    }
  });
}

setupKeyDialog();
setupAsk();
setupDocument();
setupDocuments();
setupViews();
document.body.classList.add("ready");
