// The service's HTTP API, as the page calls it: same-origin requests (the
// service refuses writes from other origins) with the tab's API key, and
// problem documents turned into errors people can read.

const KEY_STORAGE = "silkqa.apiKey";

export const auth = { key: sessionStorage.getItem(KEY_STORAGE) };

export function setKey(key) {
  auth.key = key;
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export class Problem extends Error {
  constructor(status, title, detail, type = "") {
    super(detail || title);
    Object.assign(this, { status, title, detail, type });
  }
}

export async function problemOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not a problem document: the status line is all there is
  }
  return new Problem(response.status, body.title || response.statusText || "Error", body.detail || "", body.type || "");
}

export function call(path, { method = "GET", json, body, headers = {}, signal } = {}) {
  const h = { ...headers };
  if (auth.key) h.Authorization = `Bearer ${auth.key}`;
  if (json !== undefined) {
    h["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  return fetch(path, { method, headers: h, body, signal, credentials: "same-origin" });
}

export async function callJson(path, options) {
  const response = await call(path, options);
  if (!response.ok) throw await problemOf(response);
  return response.status === 204 ? null : response.json();
}

export function problemText(problem) {
  if (problem.status === 401) return "This service needs an API key · 需要 API 密钥。";
  if (problem.status === 403) return "Your API key does not allow this · 当前密钥无此权限。";
  if (problem instanceof Problem) return `${problem.title}${problem.detail ? ": " + problem.detail : ""}`;
  return `The service could not be reached · 无法连接服务 (${problem.message})`;
}
