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
    budget = f"{limits.seconds:g} s and {limits.memory_bytes // 2**20} MB"
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=limits.seconds)
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise TooCostlyDocument(f"reading the {fmt} file took longer than {limits.seconds:g} s; it was stopped") from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        # Killed for CPU time (SIGXCPU), or out of its address space inside a C parser.
        raise TooCostlyDocument(f"reading the {fmt} file needed more than its budget of {budget}; it was stopped")
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
