"""Extracting a file's text in a child process with a time and memory budget.

PDF, HTML and .docx parsers (pypdf, lxml through trafilatura and python-docx)
can be made to work for minutes and take gigabytes by a small hostile file: a
56 KB .docx of 2.5 million empty paragraphs took 79 s and 500 MB in the
server. Here the parser runs in ``python -m silkqa.index.ingest.sandbox``,
which caps its own address space and CPU time before it reads the file, and the
parent kills it when ``ExtractionLimits.seconds`` have passed, so the server's
memory and its worker slots are never the file's to take. The child answers
with one JSON line on stdout."""

from __future__ import annotations

import json
import math
import resource
import signal
import subprocess
import sys

from silkqa.index.ingest.types import (
    Extracted,
    ExtractionLimits,
    FormatError,
    TooCostlyDocument,
    UndecodableDocument,
    UnsupportedFormat,
)

_ERRORS: dict[str, type[FormatError]] = {
    cls.__name__: cls for cls in (TooCostlyDocument, UndecodableDocument, UnsupportedFormat, FormatError)
}


def extract_isolated(fmt: str, data: bytes, limits: ExtractionLimits) -> Extracted:
    """The text of a ``fmt`` file, extracted in a child process within ``limits``."""
    command = [sys.executable, "-m", "silkqa.index.ingest.sandbox", fmt, str(limits.seconds), str(limits.memory_bytes)]
    too_slow = f"reading the {fmt} file took longer than {limits.seconds:g} s; it was stopped"
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=limits.seconds)
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise TooCostlyDocument(too_slow) from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        # Its CPU-time limit ran out (the soft limit sends SIGXCPU, the hard one SIGKILL) before
        # the parent's wall clock did: a parser using more than one core gets there first.
        raise TooCostlyDocument(too_slow)
    if done.returncode != 0 or not lines:
        # Out of its address space inside a C parser, which dies rather than raising MemoryError.
        raise TooCostlyDocument(f"reading the {fmt} file needed more than {limits.memory_bytes // 2**20} MB; it was stopped")
    result = json.loads(lines[-1])
    if "error" in result:
        raise _ERRORS.get(result["kind"], FormatError)(result["error"])
    return Extracted(result["text"], result["format"], result["title"])


def _child(fmt: str, seconds: str, memory_bytes: str) -> dict[str, str | None]:
    memory = int(memory_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(float(seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    data = sys.stdin.buffer.read()
    from silkqa.index.ingest import formats  # after the limits: the parsers' imports count too

    try:
        extracted = formats.extract_format(fmt, data)
    except FormatError as exc:
        return {"error": str(exc), "kind": type(exc).__name__}
    except MemoryError:
        return {"error": f"reading the {fmt} file needed more than {memory // 2**20} MB", "kind": "TooCostlyDocument"}
    return {"text": extracted.text, "format": extracted.format, "title": extracted.title}


if __name__ == "__main__":
    print(json.dumps(_child(*sys.argv[1:4])), flush=True)
