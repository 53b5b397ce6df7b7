// How an answer is put into words for people: the pure parts, tested in the
// browser on their own (tests/system/browser).

const CJK = /[\u3400-\u9fff]/;

export const langOf = (text) => (CJK.test(text || "") ? "zh-Hans" : "en");

// A citation's `lang` ("zh", "en") as an HTML lang value.
export const htmlLang = (lang, text) => (lang === "zh" ? "zh-Hans" : lang === "en" ? "en" : langOf(text));

// How fully the documents answer, from the service's answerability result
// (`coverage`, `abstention`); a service without them gives `abstained` only,
// so that decides between covered and not covered.
export function coverageOf(response) {
  const abstention = response.abstention || null;
  const given = response.coverage || null;
  const status = given?.status || (response.abstained ? "not_covered" : "covered");
  const missing = [...(given?.missing || []), ...(abstention?.missing || [])].filter((m, i, all) => all.indexOf(m) === i);
  // The answer text already says the reason or note when the service put it
  // there (extractive answers do): shown once.
  const answer = response.answer || "";
  const unsaid = (text) => (text && !answer.includes(text) ? text : null);
  return {
    status,
    missing,
    note: unsaid(given?.note),
    reason: unsaid(abstention?.reason),
    related: abstention?.related || response.passages || [],
  };
}

// Short enough for one line on a phone: the line's height is fixed, so the
// answer below never moves when the verdict arrives.
export const VERDICTS = {
  covered: "Covered by the documents · 文件有依据",
  partial: "Partly covered · 部分有依据",
  not_covered: "Not covered by the documents · 文件未涉及",
};

// The missing things in one line, or "".
export function missingText(missing) {
  return missing.length ? `Not in the documents · 文件未提及：${missing.join("、")}` : "";
}

// The numbers, for the details line: what an analyst may want to check, not the headline.
export function detailsText(response, elapsedMs) {
  const parts = [];
  if (response.mode) parts.push(`${response.mode} answer`);
  if (typeof response.confidence === "number") parts.push(`evidence score ${response.confidence.toFixed(2)}`);
  if (elapsedMs !== null && elapsedMs !== undefined) parts.push(`${Math.round(elapsedMs)} ms`);
  return parts.join(" · ");
}

// Whether a rewritten question says nothing the question did not: the same
// text up to spacing, case and the final question mark.
export function sameQuestion(a, b) {
  const norm = (s) => (s || "").normalize("NFKC").toLowerCase().replace(/[\s?？。.!！]+/g, "");
  return norm(a) === norm(b);
}

// Documents whose title, English title, issuer, date or number contain every
// word of the filter (case and width folded).
export function matchesFilter(doc, filter) {
  const fold = (s) => (s || "").normalize("NFKC").toLowerCase();
  const hay = fold([doc.title, doc.title_en, doc.issuer, doc.date, doc.doc_number, doc.doc_id].join(" "));
  return fold(filter).split(/\s+/).filter(Boolean).every((word) => hay.includes(word));
}

// An answer as runs of text, cutting at its [n] markers and marking each
// cited quote it repeats in the quote's own language (an English answer leads
// in English and quotes the Chinese text): [{text, marker?, lang?}].
export function answerRuns(answer, citations, answerLang) {
  const byMarker = new Map(citations.map((c) => [c.marker, c]));
  const runs = [];
  let last = 0;
  const pushText = (text, citation) => {
    const quote = citation?.quote;
    const lang = citation ? htmlLang(citation.lang, quote) : null;
    const at = quote && lang !== answerLang ? text.lastIndexOf(quote) : -1;
    if (at < 0) {
      if (text) runs.push({ text });
      return;
    }
    if (at > 0) runs.push({ text: text.slice(0, at) });
    runs.push({ text: quote, lang });
    if (at + quote.length < text.length) runs.push({ text: text.slice(at + quote.length) });
  };
  for (const m of answer.matchAll(/\[(\d+)\]/g)) {
    const marker = Number(m[1]);
    pushText(answer.slice(last, m.index), byMarker.get(marker));
    runs.push({ text: m[0], marker });
    last = m.index + m[0].length;
  }
  pushText(answer.slice(last), null);
  return runs;
}
