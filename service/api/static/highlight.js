// Highlights by character offsets. A citation's span is exactly
// document.text.slice(start, end), so the marks are cut from the text by
// offset; searching for the quote could land on an earlier, identical sentence.

// Splits [0, length) into runs: "primary" inside the primary span, "secondary"
// inside one of the others (the first one listed wins an overlap), "plain"
// elsewhere. The primary span wins over everything, so it is always one run.
// Spans are {start, end, marker?}; empty or out-of-range spans are ignored.
export function segments(length, primary, others = []) {
  const valid = (s) => s && Number.isInteger(s.start) && Number.isInteger(s.end) && 0 <= s.start && s.start < s.end && s.end <= length;
  const main = valid(primary) ? primary : null;
  const rest = others.filter(valid);
  const cuts = new Set([0, length]);
  for (const s of main ? [main, ...rest] : rest) cuts.add(s.start).add(s.end);
  const points = [...cuts].sort((a, b) => a - b);
  const runs = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [start, end] = [points[i], points[i + 1]];
    const inside = (s) => s.start <= start && end <= s.end;
    let run;
    if (main && inside(main)) run = { start, end, kind: "primary", marker: main.marker };
    else {
      const other = rest.find(inside);
      run = other ? { start, end, kind: "secondary", marker: other.marker } : { start, end, kind: "plain" };
    }
    const last = runs[runs.length - 1];
    if (last && last.kind === run.kind && last.marker === run.marker) last.end = end;
    else runs.push(run);
  }
  return runs;
}

// Fills `container` with `text`, marking the spans; returns the primary <mark>
// (or null). Marks carry their citation marker so a click can re-focus on it.
export function renderHighlighted(container, text, primary, others = []) {
  const fragment = document.createDocumentFragment();
  let primaryMark = null;
  for (const run of segments(text.length, primary, others)) {
    const piece = text.slice(run.start, run.end);
    if (run.kind === "plain") {
      fragment.append(piece);
      continue;
    }
    const mark = document.createElement("mark");
    mark.className = run.kind === "primary" ? "hl hl-primary" : "hl hl-secondary";
    mark.dataset.start = run.start;
    mark.dataset.end = run.end;
    if (run.marker !== undefined) mark.dataset.marker = run.marker;
    mark.textContent = piece;
    // The primary mark takes focus when the view opens; the lighter ones can
    // be reached with Tab to switch to their citation.
    mark.tabIndex = run.kind === "primary" ? -1 : 0;
    if (run.kind === "primary") primaryMark = mark;
    fragment.append(mark);
  }
  container.replaceChildren(fragment);
  return primaryMark;
}
