// Server-sent events over a fetch() body. EventSource cannot POST, so the page
// reads the stream itself; this parser follows the WHATWG event-stream rules
// (CRLF, CR or LF line ends, multi-line data, comments) for the parts we use.

export class SSEParser {
  constructor() {
    this.buffer = "";
  }

  // Feed decoded text; returns the events completed by it, each {event, data}.
  push(text) {
    this.buffer += text;
    // A lone CR at the very end may be the first half of a CRLF split across
    // chunks: leave it until the next chunk decides.
    this.buffer = this.buffer.replace(/\r\n|\r(?!$)/g, "\n");
    const events = [];
    let end;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const event = parseBlock(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end + 2);
      if (event) events.push(event);
    }
    return events;
  }

  // The stream ended: a final block without its blank line is still an event.
  finish() {
    const rest = this.buffer.replace(/\r$/, "");
    this.buffer = "";
    const event = rest.trim() ? parseBlock(rest) : null;
    return event ? [event] : [];
  }
}

function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}

// Yields {event, data} from a fetch Response whose body is an event stream.
export async function* readEvents(response) {
  const parser = new SSEParser();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    yield* parser.push(value);
  }
  yield* parser.finish();
}
