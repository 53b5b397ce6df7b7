// silkqa web page: ask, read the cited answer, check each citation without
// leaving it, say whether it was right, keep the conversation, manage the
// documents. It uses only the public HTTP API, like any other client.

import { readEvents } from "/ui/sse.js";
import { renderHighlighted } from "/ui/highlight.js";
import { auth, call, callJson, Problem, problemOf, problemText, setKey } from "/ui/api.js";
import {
  VERDICTS, answerRuns, coverageOf, detailsText, htmlLang, langOf, matchesFilter, missingText, sameQuestion,
} from "/ui/present.js";

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const SOURCES_HINT = $("sources-note").textContent;
const splitSection = (section) => (section ? section.split(" › ").filter(Boolean) : []);
const phone = () => matchMedia("(max-width: 860px)").matches;
const pad = (n) => String(n).padStart(2, "0");
// ISO dates whatever the browser's locale: 2026-05-04 14:03.
const isoMinute = (iso) => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

const state = {
  turns: [],
  active: -1, // the turn whose sources the side panel shows
  busy: false,
  abort: null, // the AbortController of the answer streaming in
  conversationId: null, // the stored conversation the turns belong to
  conversations: [],
  scope: null, // {docId, title}: ask only this document
  documents: new Map(), // doc_id -> Promise of the document detail
  docList: [],
  docRequest: 0, // the latest document opened wins a race between clicks
  doc: null, // what the document view shows: {docId, primary, turn}
  returnFocus: null,
  afterKey: null,
  replacing: null, // the document the upload form replaces
};

// ------------------------------------------------------------ API key ----

function showKeyState() {
  $("key-button").textContent = auth.key ? "API key ✓" : "API key";
  $("key-forget").disabled = !auth.key;
}

function askForKey(reason, then = null) {
  state.afterKey = then;
  $("key-reason").textContent = reason || "";
  $("key-reason").hidden = !reason;
  $("key-input").value = "";
  if (!$("key-dialog").open) $("key-dialog").showModal();
  $("key-input").focus();
}

function setupKeyDialog() {
  const dialog = $("key-dialog");
  $("key-button").addEventListener("click", () => askForKey(null));
  $("key-cancel").addEventListener("click", () => dialog.close());
  $("key-forget").addEventListener("click", () => {
    setKey(null);
    showKeyState();
    dialog.close();
  });
  $("key-form").addEventListener("submit", () => {
    const key = $("key-input").value.trim();
    if (!key) return;
    setKey(key);
    showKeyState();
    const then = state.afterKey;
    state.afterKey = null;
    loadConversations(); // the list is the key's own
    if (then) queueMicrotask(then);
  });
  showKeyState();
}

// A yes/no question in a dialog; resolves true for yes.
function confirmAction(title, text, ok) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

// ------------------------------------------------------- conversations ----

function setConversation(id) {
  state.conversationId = id;
  const url = new URL(location.href);
  url.hash = id ? `c=${id}` : "";
  window.history.replaceState(null, "", id ? url : url.pathname + url.search);
  for (const item of document.querySelectorAll(".conv-item")) {
    if (item.dataset.id === id) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
}

async function loadConversations() {
  const status = $("history-status");
  try {
    const { conversations } = await callJson("/v1/conversations?limit=200");
    state.conversations = conversations;
    renderConversations();
    status.textContent = conversations.some((c) => c.turn_count) ? "" : "None yet: your questions are kept here. · 暂无对话。";
  } catch (problem) {
    state.conversations = [];
    renderConversations();
    status.textContent = problem.status === 401 ? "Enter an API key to see your conversations. · 请先输入密钥。" : problemText(problem);
  }
}

function renderConversations() {
  // One whose first question failed holds nothing worth listing.
  const shown = state.conversations.filter((c) => c.turn_count > 0 || c.conversation_id === state.conversationId);
  $("conversation-list").replaceChildren(...shown.map(conversationItem));
}

function conversationItem(c) {
  const title = c.title || "Untitled · 未命名";
  const open = el(
    "button", { type: "button", className: "conv-open" },
    el("span", { className: "conv-title", lang: langOf(title), textContent: title }),
    el("span", { className: "conv-when muted", textContent: `${isoMinute(c.updated_at)} · ${c.turn_count} Q` }),
  );
  open.addEventListener("click", () => openConversation(c.conversation_id));
  const action = (text, run) => {
    const b = el("button", { type: "button", className: "conv-action", textContent: text });
    b.setAttribute("aria-label", `${text}: ${title}`); // the visible words first, then which conversation
    b.addEventListener("click", run);
    return b;
  };
  const li = el(
    "li", { className: "conv-item" },
    open,
    el(
      "div", { className: "conv-actions" },
      action("Rename · 重命名", () => renameConversation(c, li)),
      action("Export · 导出", () => exportConversation(c)),
      action("Delete · 删除", () => deleteConversation(c)),
    ),
  );
  li.dataset.id = c.conversation_id;
  if (c.conversation_id === state.conversationId) li.setAttribute("aria-current", "true");
  return li;
}

function renameConversation(c, li) {
  const input = el("input", { type: "text", className: "conv-rename", value: c.title, maxLength: 200 });
  input.setAttribute("aria-label", "New title · 新标题");
  const form = el("form", { className: "conv-rename-form" }, input, el("button", { type: "submit", className: "quiet", textContent: "Save · 保存" }));
  const original = li.querySelector(".conv-open");
  original.hidden = true;
  original.after(form);
  input.focus();
  input.select();
  const done = () => {
    form.remove();
    original.hidden = false;
    original.focus();
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      done();
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const title = input.value.trim();
    if (!title) return;
    try {
      await callJson(`/v1/conversations/${c.conversation_id}`, { method: "PATCH", json: { title } });
      await loadConversations();
      document.querySelector(`.conv-item[data-id="${c.conversation_id}"] .conv-open`)?.focus();
    } catch (problem) {
      $("history-status").textContent = problemText(problem);
      done();
    }
  });
}

async function exportConversation(c) {
  try {
    const response = await call(`/v1/conversations/${c.conversation_id}/export`);
    if (!response.ok) throw await problemOf(response);
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `${(c.title || "conversation").slice(0, 60)}.md` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (problem) {
    $("history-status").textContent = problemText(problem);
  }
}

async function deleteConversation(c) {
  const ok = await confirmAction(
    "Delete this conversation? · 删除此对话？",
    `“${c.title}” and its ${c.turn_count} answers will be gone. Feedback you gave stays with the maintainers. · 删除后无法恢复。`,
    "Delete · 删除",
  );
  if (!ok) return;
  try {
    await callJson(`/v1/conversations/${c.conversation_id}`, { method: "DELETE" });
    if (c.conversation_id === state.conversationId) newConversation();
    await loadConversations();
  } catch (problem) {
    $("history-status").textContent = problemText(problem);
  }
}

async function openConversation(id) {
  closeDrawer();
  if (state.busy) return;
  let found;
  try {
    found = await callJson(`/v1/conversations/${encodeURIComponent(id)}`);
  } catch (problem) {
    if (problem.status === 401) askForKey("This service needs an API key. · 需要 API 密钥。", () => openConversation(id));
    else $("history-status").textContent = problemText(problem);
    if (problem.status === 404) setConversation(null);
    return;
  }
  clearTurns();
  setConversation(found.conversation_id);
  showView("ask");
  for (const stored of found.turns) {
    const turn = newTurn(stored.question, stored.position > 0, false);
    applyJson(turn, stored.response);
    turn.feedback = stored.feedback;
    renderTools(turn);
  }
  const last = state.turns.at(-1);
  if (last) setActive(last.index, true);
  if (phone()) $("history").scrollIntoView({ block: "start" });
}

// The conversation a new question goes into: made on the first question. A
// service that cannot keep conversations still answers (nothing is kept).
async function ensureConversation() {
  if (state.conversationId) return state.conversationId;
  try {
    const made = await callJson("/v1/conversations", { method: "POST", json: {} });
    setConversation(made.conversation_id);
    return made.conversation_id;
  } catch (problem) {
    if (problem.status === 401) throw problem;
    return null;
  }
}

// ----------------------------------------------------------- answering ----

function conversationSoFar() {
  return state.turns
    .filter((t) => t.done && !t.error)
    .flatMap((t) => [
      { role: "user", content: t.question },
      { role: "assistant", content: t.answer },
    ]);
}

function newTurn(question, followUp, live = true) {
  const turn = {
    question, followUp, answer: "", rewritten: null, mode: null, response: {},
    abstained: false, citations: [], passages: [], done: false, error: null, stopped: false,
    index: state.turns.length, frame: 0, turnId: null, conversationId: null, feedback: null, started: performance.now(),
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
    el("p", { className: "meta", textContent: live ? "Answering… · 正在回答…" : "" }),
    el("div", { className: "a", lang: langOf(question) }),
    el("div", { className: "verdict", hidden: true }),
    el("div", { className: "tools", hidden: true }),
  );
  turn.el.dataset.turn = turn.index;
  turn.el.setAttribute("aria-busy", "true"); // screen readers wait for the whole answer
  state.turns.push(turn);
  $("turns").append(turn.el);
  $("welcome").hidden = true;
  if (live) {
    // On a phone the page scrolls, not the conversation: bring the new
    // question up under the header, clear of the sticky question box.
    if (phone()) turn.el.scrollIntoView({ block: "start" });
    else $("conversation").scrollTop = $("conversation").scrollHeight;
  }
  return turn;
}

// The answer's language is the question's (the service says which): an
// English answer leads in English and quotes Chinese, each quote marked as such.
const answerLang = (turn) => (turn.lang ? htmlLang(turn.lang) : langOf(turn.question));

function answerNodes(turn) {
  return answerRuns(turn.answer, turn.citations, answerLang(turn)).map((run) => {
    if (run.marker !== undefined) {
      const link = el("a", { className: "cite", href: `#src-${turn.index}-${run.marker}`, textContent: run.text });
      link.dataset.marker = run.marker;
      return link;
    }
    return run.lang ? el("span", { lang: run.lang, textContent: run.text }) : run.text;
  });
}

// Runs a change to the conversation, keeping its end in view if the reader was
// at the end (someone who scrolled up to re-read is left where they are).
function keepingEnd(change) {
  const conv = $("conversation");
  const following = !phone() && conv.scrollHeight - conv.scrollTop - conv.clientHeight < 48;
  change();
  if (following) conv.scrollTop = conv.scrollHeight;
}

function renderAnswer(turn) {
  turn.frame = 0;
  const answer = turn.el.querySelector(".a");
  answer.lang = answerLang(turn);
  keepingEnd(() => answer.replaceChildren(...answerNodes(turn)));
}

function scheduleRender(turn) {
  if (!turn.frame) turn.frame = requestAnimationFrame(() => renderAnswer(turn));
}

function applyMeta(turn, meta) {
  turn.mode = meta.mode || turn.mode;
  turn.lang = meta.lang || turn.lang;
  turn.rewritten = meta.rewritten_question || null;
  if (!turn.followUp) return;
  const line = turn.el.querySelector(".rewritten");
  // A rewrite that says what was asked says nothing: no line for it.
  line.hidden = !turn.rewritten || sameQuestion(turn.rewritten, turn.question);
  line.querySelector(".rewritten-text").textContent = turn.rewritten || "";
  line.querySelector(".rewritten-text").lang = langOf(turn.rewritten);
}

function applyCitations(turn, body) {
  Object.assign(turn.response, body);
  turn.abstained = Boolean(body.abstained);
  turn.citations = body.citations || [];
  turn.passages = body.passages || [];
  renderVerdict(turn);
  turn.el.classList.toggle("abstained", turn.abstained);
  setActive(turn.index, true);
}

// How sure, in words: covered, partly covered (and what is missing), or not
// covered (with the reason and the nearest passages).
function renderVerdict(turn) {
  const coverage = coverageOf(turn.response);
  turn.coverage = coverage;
  turn.el.dataset.coverage = coverage.status;
  const label = VERDICTS[coverage.status] || coverage.status;
  const meta = turn.el.querySelector(".meta");
  meta.replaceChildren(el("span", { className: `verdict-label ${coverage.status}`, textContent: label }));
  const verdict = turn.el.querySelector(".verdict");
  verdict.className = `verdict ${coverage.status}`;
  const parts = []; // the label itself is in the line above the answer
  if (coverage.reason) parts.push(el("p", { className: "reason", lang: langOf(coverage.reason), textContent: coverage.reason }));
  const missing = missingText(coverage.missing);
  if (missing) parts.push(el("p", { className: "missing", textContent: missing }));
  if (coverage.note) parts.push(el("p", { className: "note", lang: langOf(coverage.note), textContent: coverage.note }));
  if (coverage.status === "not_covered" && coverage.related.length) {
    parts.push(el("button", {
      type: "button", className: "link related-button",
      textContent: `Related passages (${coverage.related.length}) · 相关段落`,
    }));
  }
  verdict.replaceChildren(...parts);
  keepingEnd(() => (verdict.hidden = parts.length === 0));
}

function applyDone(turn, done) {
  Object.assign(turn.response, done);
  turn.done = true;
  turn.turnId = done.turn_id ?? null;
  turn.conversationId = done.conversation_id ?? null;
  const ms = done.timings_ms ? Object.values(done.timings_ms).reduce((a, b) => a + b, 0) : null;
  turn.details = detailsText({ ...turn.response, mode: turn.mode }, ms);
  turn.el.classList.remove("pending");
  turn.el.removeAttribute("aria-busy");
  renderTools(turn);
}

function applyJson(turn, body) {
  applyMeta(turn, { mode: body.mode, lang: body.lang, rewritten_question: body.rewritten_question });
  turn.answer = body.answer;
  applyCitations(turn, body);
  renderAnswer(turn);
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

function stopTurn(turn) {
  turn.stopped = true;
  turn.error = "stopped"; // not part of the conversation the next question continues
  renderAnswer(turn);
  turn.el.classList.remove("pending");
  turn.el.removeAttribute("aria-busy");
  turn.el.classList.add("stopped");
  turn.el.querySelector(".meta").textContent = "Stopped: this partial answer is not kept · 已停止，未保存";
}

// ------------------------------------------------- feedback, copy, details ----

function renderTools(turn) {
  const tools = turn.el.querySelector(".tools");
  if (!turn.done || turn.error) return;
  const fb = turn.feedback || { rating: null, wrong_citations: [], comment: null };
  const status = el("p", { className: "feedback-status muted", role: "status" });
  const rate = (value, label) => {
    const b = el("button", { type: "button", className: `rate rate-${value}` }, thumb(value === "down"));
    b.setAttribute("aria-label", label);
    b.setAttribute("aria-pressed", String(fb.rating === value));
    b.addEventListener("click", () => sendFeedback(turn, { ...current(turn), rating: fb.rating === value ? null : value }));
    return b;
  };
  const copy = el("button", { type: "button", className: "quiet copy", textContent: "Copy with footnotes · 复制（含脚注）" });
  copy.addEventListener("click", () => copyTurn(turn));
  const row = el(
    "div", { className: "tool-row" },
    el("span", { className: "rate-group", role: "group", ariaLabel: "Was this answer right? · 回答是否正确" },
      rate("up", "Right answer · 回答正确"), rate("down", "Wrong answer · 回答有误")),
    copy,
  );
  const more = el("details", { className: "more" }, el("summary", { textContent: "Flag a citation or comment · 标记引文或评论" }));
  if (turn.citations.length) {
    const set = el("fieldset", { className: "flags" }, el("legend", { textContent: "Citations that do not support their sentence · 不支持该句的引文" }));
    for (const c of turn.citations) {
      const box = el("input", { type: "checkbox", className: "flag", value: String(c.marker), checked: fb.wrong_citations.includes(c.marker) });
      const snippet = c.quote.length > 40 ? c.quote.slice(0, 40) + "…" : c.quote;
      set.append(el("label", {}, box, ` [${c.marker}] `, el("span", { lang: htmlLang(c.lang, c.quote), textContent: snippet })));
    }
    more.append(set);
  }
  const comment = el("textarea", { className: "comment", rows: 2, maxLength: 2000, value: fb.comment || "" });
  const commentId = `comment-${turn.index}`;
  comment.id = commentId;
  more.append(
    el("label", { htmlFor: commentId, textContent: "Comment (optional) · 评论（可选）" }),
    comment,
    el("button", { type: "button", className: "quiet send-feedback", textContent: "Send feedback · 提交反馈" }),
  );
  more.querySelector(".send-feedback").addEventListener("click", () => sendFeedback(turn, current(turn)));
  const details = el("p", { className: "details muted", textContent: turn.details || "" });
  const recorded = turn.turnId !== null;
  for (const b of [...row.querySelectorAll("button"), ...more.querySelectorAll("button, input, textarea")]) b.disabled = !recorded;
  if (!recorded) status.textContent = "Not kept in a conversation: feedback and copying need a kept answer. · 未保存的回答无法反馈。";
  tools.replaceChildren(row, more, status, details);
  tools.hidden = false;
}

// A thumb, drawn (an emoji needs a font not every system has); down is up turned over.
function thumb(down) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("thumb");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M2 10h4v11H2zM8 21V10l4-8c1.7 0 3 1.3 3 3v4h5.2c1.2 0 2.1 1.1 1.9 2.3l-1.5 7.9c-.2 1-1 1.8-2 1.8z");
  if (down) path.setAttribute("transform", "rotate(180 12 12)");
  svg.append(path);
  return svg;
}

// The feedback the turn's controls show now (a post replaces the whole feedback).
function current(turn) {
  const tools = turn.el.querySelector(".tools");
  return {
    rating: turn.feedback?.rating ?? null,
    wrong_citations: [...tools.querySelectorAll("input.flag:checked")].map((b) => Number(b.value)),
    comment: tools.querySelector("textarea.comment")?.value.trim() || null,
  };
}

async function sendFeedback(turn, feedback) {
  const status = turn.el.querySelector(".feedback-status");
  if (!feedback.rating && !feedback.wrong_citations.length && !feedback.comment) {
    status.textContent = "Pick 👍/👎, a citation or write a comment first. · 请先选择或填写。";
    return;
  }
  try {
    const saved = await callJson("/v1/feedback", { method: "POST", json: { turn_id: turn.turnId, ...feedback } });
    turn.feedback = { rating: saved.rating, wrong_citations: saved.wrong_citations, comment: saved.comment };
    for (const b of turn.el.querySelectorAll(".rate")) {
      b.setAttribute("aria-pressed", String(b.classList.contains(`rate-${saved.rating}`)));
    }
    status.textContent = "Thank you: the maintainers will review it. · 感谢反馈。";
  } catch (problem) {
    status.textContent = problemText(problem);
    if (problem.status === 401) askForKey("Feedback needs an API key. · 需要 API 密钥。", () => sendFeedback(turn, feedback));
  }
}

// The answer with its citations as numbered footnotes, as the service exports
// it (the clipboard item waits for it, so the click still counts as the gesture).
async function copyTurn(turn) {
  const status = turn.el.querySelector(".feedback-status");
  const path = `/v1/conversations/${turn.conversationId}/export?turn_id=${turn.turnId}`;
  const text = call(path).then(async (r) => {
    if (!r.ok) throw await problemOf(r);
    return new Blob([await r.text()], { type: "text/plain" });
  });
  try {
    await navigator.clipboard.write([new ClipboardItem({ "text/plain": text })]);
    status.textContent = "Copied with footnotes · 已复制（含脚注）";
  } catch (problem) {
    status.textContent = problem instanceof Problem ? problemText(problem) : `Could not copy · 无法复制 (${problem.message})`;
  }
}

// -------------------------------------------------------------- streams ----

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
        applyCitations(turn, payload);
        renderAnswer(turn);
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
async function tryStream(turn, body, signal) {
  let response;
  try {
    response = await call("/v1/ask", {
      method: "POST",
      json: { ...body, stream: true },
      headers: { Accept: "text/event-stream, application/json" },
      signal,
    });
  } catch {
    return false;
  }
  if ([401, 403, 404, 409].includes(response.status)) throw await problemOf(response);
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
  const prior = conversationSoFar();
  const turn = newTurn(question, prior.length > 0);
  const controller = new AbortController();
  setBusy(true, controller);
  try {
    const body = { question };
    if (prior.length) body.history = prior;
    if (state.scope) body.doc_ids = [state.scope.docId];
    const conversationId = await ensureConversation();
    if (conversationId) body.conversation_id = conversationId;
    if (!(await tryStream(turn, body, controller.signal))) {
      if (controller.signal.aborted) stopTurn(turn);
      else {
        turn.answer = "";
        applyJson(turn, await callJson("/v1/ask", { method: "POST", json: body }));
      }
    }
    if (turn.turnId !== null) loadConversations();
  } catch (problem) {
    failTurn(turn, problem);
    if (problem.status === 401) {
      askForKey("This service needs an API key to answer questions. · 该服务需要 API 密钥。", () => {
        turn.el.remove();
        state.turns.splice(turn.index, 1);
        ask(question);
      });
    } else if (problem.type === "/problems/unknown-conversation" || problem.type === "/problems/conversation-full") {
      setConversation(null); // deleted elsewhere, or full: the next question starts a new one
    }
  } finally {
    setBusy(false, null);
  }
}

function setBusy(busy, controller) {
  state.busy = busy;
  state.abort = controller;
  $("ask-button").disabled = busy;
  $("stop-button").hidden = !busy;
  $("ask-form").setAttribute("aria-busy", String(busy));
}

function clearTurns() {
  state.turns = [];
  state.active = -1;
  hidePop();
  $("turns").replaceChildren();
  $("welcome").hidden = false;
  closeDocument();
  renderSources(null);
}

function newConversation() {
  if (state.busy) state.abort?.abort();
  clearTurns();
  setConversation(null);
  closeDrawer();
  showView("ask");
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
  $("stop-button").addEventListener("click", () => state.abort?.abort());
  $("new-conversation").addEventListener("click", newConversation);
  $("scope-clear").addEventListener("click", () => setScope(null));
  $("turns").addEventListener("click", (e) => {
    const turnEl = e.target.closest(".turn");
    if (!turnEl) return;
    const index = Number(turnEl.dataset.turn);
    const cite = e.target.closest("a.cite");
    if (cite) {
      e.preventDefault();
      // A tap shows the quote first; a second tap (or "Open") opens the document.
      if (lastPointer === "touch" && !(pop.matches(":popover-open") && popFor?.anchor === cite)) showPop(index, cite);
      else {
        hidePop();
        openCitation(index, Number(cite.dataset.marker), cite);
      }
    } else if (e.target.closest(".related-button")) {
      setActive(index);
      closeDocument();
      $("source-list").querySelector("button")?.focus();
      $("side").scrollIntoView({ block: "start" });
    } else if (!e.target.closest(".tools")) setActive(index);
  });
}

function setScope(scope) {
  state.scope = scope;
  $("scope").hidden = !scope;
  $("scope-title").textContent = scope ? `《${scope.title}》` : "";
  $("scope-title").lang = scope ? langOf(scope.title) : "";
}

// ----------------------------------------------------- citation popover ----

const pop = $("cite-pop");
let popFor = null; // {turn, marker, anchor}
let popTimer = 0;
let lastPointer = "mouse";

function showPop(turnIndex, anchor) {
  const turn = state.turns[turnIndex];
  const marker = Number(anchor.dataset.marker);
  const citation = turn?.citations.find((c) => c.marker === marker);
  if (!citation) return; // still streaming: the citations come after the text
  clearTimeout(popTimer);
  popFor = { turn: turnIndex, marker, anchor };
  $("cite-pop-marker").textContent = `[${marker}]`;
  $("cite-pop-title").textContent = citation.title;
  $("cite-pop-title").lang = langOf(citation.title);
  $("cite-pop-section").textContent = citation.section || "—";
  $("cite-pop-section").lang = langOf(citation.section);
  $("cite-pop-quote").textContent = citation.quote;
  $("cite-pop-quote").lang = htmlLang(citation.lang, citation.quote);
  anchor.setAttribute("aria-describedby", "cite-pop-quote");
  if (!pop.matches(":popover-open")) pop.showPopover();
  placePop(anchor);
}

function placePop(anchor) {
  const a = anchor.getBoundingClientRect();
  const margin = 8;
  const width = Math.min(pop.offsetWidth, innerWidth - 2 * margin);
  const left = Math.max(margin, Math.min(a.left - 24, innerWidth - width - margin));
  const below = a.bottom + 6;
  const top = below + pop.offsetHeight > innerHeight - margin && a.top > pop.offsetHeight + 12 ? a.top - pop.offsetHeight - 6 : below;
  pop.style.left = `${left}px`;
  pop.style.top = `${Math.max(margin, top)}px`;
}

function hidePop() {
  clearTimeout(popTimer);
  popFor?.anchor.removeAttribute("aria-describedby");
  popFor = null;
  if (pop.matches(":popover-open")) pop.hidePopover();
}

function hidePopSoon() {
  clearTimeout(popTimer);
  popTimer = setTimeout(hidePop, 250);
}

function setupPopover() {
  const turns = $("turns");
  document.addEventListener("pointerdown", (e) => {
    lastPointer = e.pointerType || "mouse";
    if (!e.target.closest("#cite-pop, a.cite")) hidePop();
    if (!e.target.closest("#history, #drawer-button")) closeDrawer();
  }, true);
  turns.addEventListener("mouseover", (e) => {
    const cite = e.target.closest("a.cite");
    if (!cite || lastPointer === "touch") return;
    clearTimeout(popTimer);
    popTimer = setTimeout(() => showPop(Number(cite.closest(".turn").dataset.turn), cite), 120);
  });
  turns.addEventListener("mouseout", (e) => e.target.closest("a.cite") && hidePopSoon());
  turns.addEventListener("focusin", (e) => {
    // Keyboard focus previews the quote; a tap's focus must not (the tap itself does).
    const cite = e.target.closest("a.cite");
    if (cite?.matches(":focus-visible")) showPop(Number(cite.closest(".turn").dataset.turn), cite);
  });
  turns.addEventListener("focusout", (e) => {
    if (e.target.closest("a.cite") && !pop.contains(e.relatedTarget)) hidePopSoon();
  });
  pop.addEventListener("mouseenter", () => clearTimeout(popTimer));
  pop.addEventListener("mouseleave", hidePopSoon);
  pop.addEventListener("focusout", (e) => !pop.contains(e.relatedTarget) && hidePopSoon());
  $("cite-pop-open").addEventListener("click", () => {
    const target = popFor;
    hidePop();
    if (target) openCitation(target.turn, target.marker, target.anchor);
  });
  for (const scroller of [window, $("conversation")]) scroller.addEventListener("scroll", () => popFor && hidePop(), { passive: true });
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
    el("blockquote", { className: "quote", lang: htmlLang(item.lang, text), textContent: text }),
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
    note.hidden = false;
    return;
  }
  if (turn.abstained) {
    $("sources-heading").textContent = "Related passages · 相关段落";
    note.textContent = "Not an answer: the documents do not cover this question. These are the closest passages. · 仅供参考。";
    list.replaceChildren(...(turn.coverage?.related || turn.passages).map((p) => sourceItem(turn, p, null)));
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
  state.doc = { docId, primary, turn, title: docId };
  markShown([]);
  if (returnTo) state.returnFocus = returnTo;
  const view = $("doc-view");
  const textBox = $("doc-text");
  $("sources").hidden = true;
  view.hidden = false;
  showOriginal(false);
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
  state.doc.title = doc.title;
  $("doc-title").textContent = doc.title;
  $("doc-title").lang = langOf(doc.title);
  $("doc-meta").replaceChildren(...documentFacts(doc).flatMap((fact, i) => [i ? " · " : "", el("span", { className: "fact", textContent: fact })]));
  textBox.lang = langOf(doc.text.slice(0, 500));
  const mark = renderHighlighted(textBox, doc.text, primary, others);
  scrollToMark(textBox, mark);
}

function scrollToMark(box, mark) {
  if (mark) {
    box.scrollTop = mark.offsetTop - box.clientHeight / 3;
    mark.focus({ preventScroll: true });
  } else {
    box.scrollTop = 0;
    box.focus({ preventScroll: true });
  }
}

// What a person wants to know of a document, in their words (its length, not
// how many chunks the index cut it into).
function documentFacts(doc) {
  return [doc.issuer, doc.date, doc.doc_number, `${doc.length.toLocaleString("en")} characters · 字`].filter(Boolean);
}

// The original file's text (for PDF, HTML, .docx: the text extracted from it),
// with the span the cleaned citation came from highlighted.
async function showOriginal(on) {
  $("show-original").setAttribute("aria-pressed", String(on));
  $("show-clean").setAttribute("aria-pressed", String(!on));
  $("doc-original").hidden = !on;
  $("doc-text").hidden = on;
  if (!on || !state.doc) return;
  const { docId, primary } = state.doc;
  const box = $("doc-original");
  const span = primary ? `?start=${primary.start}&end=${primary.end}` : "";
  box.replaceChildren(el("p", { className: "muted", textContent: "Loading… · 加载中…" }));
  try {
    const original = await callJson(`/v1/documents/${encodeURIComponent(docId)}/original${span}`);
    if (state.doc?.docId !== docId) return;
    box.lang = langOf(original.text.slice(0, 500));
    const mapped = original.span ? { start: original.span.original_start, end: original.span.original_end, marker: primary.marker } : null;
    const label = original.original_file ? `${original.original_file} (${original.source_format || "text"})` : "the bundled file · 随附原文";
    const mark = renderHighlighted(box, original.text, mapped);
    box.prepend(el("p", { className: "original-file muted", textContent: `Original: ${label}` }));
    scrollToMark(box, mark);
  } catch (problem) {
    box.replaceChildren(el("p", { className: "error", role: "alert", textContent: problemText(problem) }));
  }
}

function closeDocument() {
  if ($("doc-view").hidden) return;
  state.docRequest++;
  state.doc = null;
  markShown([]);
  $("doc-view").hidden = true;
  $("sources").hidden = false;
  document.body.classList.remove("doc-open");
  const back = state.returnFocus;
  state.returnFocus = null;
  if (back && back.isConnected) back.focus();
}

function askDocument(docId, title) {
  setScope({ docId, title });
  state.returnFocus = null;
  closeDocument();
  showView("ask");
  $("question").focus();
}

function setupDocument() {
  $("doc-back").addEventListener("click", closeDocument);
  $("doc-ask").addEventListener("click", () => state.doc && askDocument(state.doc.docId, state.doc.title));
  $("show-clean").addEventListener("click", () => showOriginal(false));
  $("show-original").addEventListener("click", () => showOriginal(true));
  // A lighter mark is another citation of the same answer: make it the focus.
  const switchTo = (e) => {
    const mark = e.target.closest("mark.hl-secondary[data-marker]");
    if (!mark || !state.doc || state.doc.turn < 0) return;
    e.preventDefault();
    openCitation(state.doc.turn, Number(mark.dataset.marker), null);
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
    state.docList = documents;
    documentsLoaded = true;
    renderDocuments();
  } catch (problem) {
    status.textContent = problemText(problem);
    if (problem.status === 401) askForKey("This service needs an API key to list documents. · 需要 API 密钥。", loadDocuments);
  }
}

function renderDocuments() {
  const filter = $("doc-filter").value;
  const shown = state.docList.filter((d) => matchesFilter(d, filter));
  $("doc-rows").replaceChildren(...shown.map(documentRow));
  const n = state.docList.length;
  $("docs-status").textContent = filter.trim()
    ? `${shown.length} of ${n} documents match · ${n} 份中有 ${shown.length} 份符合`
    : `${n} documents · 共 ${n} 份文件`;
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
  const action = (className, text, run) => {
    const b = el("button", { type: "button", className: `quiet small ${className}`, textContent: text });
    b.setAttribute("aria-label", `${text}: ${doc.title}`);
    b.addEventListener("click", run);
    return b;
  };
  const actions = el(
    "td", { className: "doc-actions-cell" },
    action("doc-ask", "Ask only this · 只问此文", () => askDocument(doc.doc_id, doc.title)),
    action("doc-replace", "Replace · 替换", () => startReplace(doc)),
    action("doc-delete", "Delete · 删除", () => deleteDocument(doc)),
  );
  return el(
    "tr", {},
    title,
    cell("issuer", "Issuer · 发布机构", doc.issuer || "—"),
    cell("date", "Date · 日期", doc.date || "—"),
    cell("num", "Length · 篇幅", `${doc.length.toLocaleString("zh")} 字`),
    actions,
  );
}

async function deleteDocument(doc) {
  const ok = await confirmAction(
    "Delete this document? · 删除此文件？",
    `《${doc.title}》 (${doc.doc_id}) leaves the library: answers stop citing it at once. Editors only. · 删除后答案将不再引用此文件。`,
    "Delete · 删除",
  );
  if (!ok) return;
  const status = $("docs-status");
  status.textContent = "Deleting and re-indexing… · 正在删除…";
  try {
    await callJson(`/v1/documents/${encodeURIComponent(doc.doc_id)}`, { method: "DELETE" });
    state.documents.delete(doc.doc_id);
    if (state.scope?.docId === doc.doc_id) setScope(null);
    await loadDocuments();
    status.textContent = `Deleted · 已删除：${doc.title}. ${status.textContent}`;
  } catch (problem) {
    status.textContent = editorProblem(problem);
    if (problem.status === 401) askForKey("Deleting needs an editor key. · 删除需要编辑者密钥。", () => deleteDocument(doc));
  }
}

function editorProblem(problem) {
  return problem.status === 403 ? "This needs an editor key. · 需要编辑者密钥。" : problemText(problem);
}

function startReplace(doc) {
  state.replacing = doc;
  $("upload").hidden = false;
  $("upload").open = true;
  $("upload-replacing").hidden = false;
  $("upload-replacing-title").textContent = `《${doc.title}》 (${doc.doc_id})`;
  $("upload-submit").textContent = "Replace · 替换";
  $("upload").scrollIntoView({ block: "nearest" });
  $("upload-file").focus();
}

function stopReplace() {
  state.replacing = null;
  $("upload-replacing").hidden = true;
  $("upload-submit").textContent = "Upload · 上传";
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
function uploadRequest(method) {
  const fields = Object.entries({
    title: $("upload-title").value.trim(),
    issuer: $("upload-issuer").value.trim(),
    date: $("upload-date").value.trim(),
  }).filter(([, value]) => value);
  const file = $("upload-file").files[0];
  if (file) {
    const form = new FormData();
    form.append("file", file);
    for (const [name, value] of fields) form.append(name, value);
    return { method, body: form };
  }
  const text = $("upload-text").value;
  return text.trim() ? { method, json: { text, ...Object.fromEntries(fields) } } : null;
}

async function upload(e) {
  e.preventDefault();
  const status = $("upload-status");
  const replacing = state.replacing;
  const request = uploadRequest(replacing ? "PUT" : "POST");
  if (!request) {
    status.textContent = "Choose a file or paste the text. · 请选择文件或粘贴全文。";
    return;
  }
  if (replacing && !(await confirmAction(
    "Replace this document? · 替换此文件？",
    `《${replacing.title}》 is replaced by what you upload; answers cite the new text at once. · 替换后答案将引用新文本。`,
    "Replace · 替换",
  ))) return;
  const button = $("upload-submit");
  button.disabled = true;
  status.textContent = "Uploading and indexing… · 上传并建立索引中…";
  try {
    const path = replacing ? `/v1/documents/${encodeURIComponent(replacing.doc_id)}` : "/v1/documents";
    const done = await callJson(path, request);
    state.documents.clear(); // a replaced document must not be shown from the cache
    status.textContent = `${done.action}: ${done.title || done.doc_id} (${done.doc_id}) · 已完成`;
    $("upload-form").reset();
    stopReplace();
    loadDocuments();
  } catch (problem) {
    status.textContent = [404, 405].includes(problem.status) && !replacing
      ? "This service does not accept uploads. · 该服务不接受上传。"
      : problem.status === 403 ? "Uploading needs an editor key. · 上传需要编辑者密钥。" : problemText(problem);
    if (problem.status === 401) askForKey("Uploading needs an editor key. · 上传需要编辑者密钥。", () => $("upload-form").requestSubmit());
  } finally {
    button.disabled = false;
  }
}

function setupDocuments() {
  $("upload-form").addEventListener("submit", upload);
  $("upload-replacing-cancel").addEventListener("click", stopReplace);
  $("doc-filter").addEventListener("input", renderDocuments);
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

function openDrawer() {
  document.body.classList.add("drawer-open");
  $("drawer-button").setAttribute("aria-expanded", "true");
  $("new-conversation").focus();
}

function closeDrawer() {
  if (!document.body.classList.contains("drawer-open")) return;
  document.body.classList.remove("drawer-open");
  $("drawer-button").setAttribute("aria-expanded", "false");
}

function setupViews() {
  $("tab-ask").addEventListener("click", () => showView("ask"));
  $("tab-docs").addEventListener("click", () => showView("docs"));
  $("drawer-button").addEventListener("click", () => (document.body.classList.contains("drawer-open") ? closeDrawer() : openDrawer()));
  document.addEventListener("keydown", (e) => {
    const dialogOpen = $("key-dialog").open || $("confirm-dialog").open;
    if (e.key === "Escape" && popFor) {
      e.preventDefault();
      const anchor = popFor.anchor;
      hidePop();
      anchor.focus();
    } else if (e.key === "Escape" && !dialogOpen && document.body.classList.contains("drawer-open")) {
      closeDrawer();
      $("drawer-button").focus();
    } else if (e.key === "Escape" && !dialogOpen && !$("doc-view").hidden) {
      e.preventDefault();
      closeDocument();
    } else if (e.key === "/" && !e.target.closest("input, textarea, [contenteditable]") && !dialogOpen) {
      e.preventDefault();
      showView("ask");
      $("question").focus();
    }
  });
}

function openFromAddress() {
  const id = new URLSearchParams(location.hash.slice(1)).get("c");
  if (id) openConversation(id);
}

setupKeyDialog();
setupAsk();
setupPopover();
setupDocument();
setupDocuments();
setupViews();
loadConversations();
openFromAddress();
document.body.classList.add("ready");
