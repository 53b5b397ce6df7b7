"""What an outside audit did to the service, measured on a real ``silkqa serve``
over 127.0.0.1 (keys on, default limits):

* stalled bodies: ``--stalled`` clients send their headers and the start of a
  body, then nothing, for ``--stall-seconds``; meanwhile one client asks
  questions back to back (p50/p95 of /v1/ask during the stall);
* odd methods: ``--methods`` requests with random 1,000-character HTTP methods
  and no key (each a 401), then the size of ``/metrics`` and the time to scrape it;
* costly uploads, each under the upload limit: a .docx of 2.5 million empty
  paragraphs (58 KB), one of 400,000 (40 KB, the parser's slow path), a PDF
  whose content stream inflates to 400 MB (1 MB), a 3 MB web page; the time
  to the answer and the peak extra RSS of the server and its children.

    python -m bench.hostile                 # the full run (results in bench/RESULTS.md)
    python -m bench.hostile --stall-seconds 10 --methods 500

Writes bench/out/hostile-<time>.json."""

from __future__ import annotations

import argparse
import json
import random
import socket
import string
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil

from bench.load import KEY, OUT, bench_server, percentile
from tests.support.live import Server
from tests.support.makedocs import docx_of_empty_paragraphs, html_of_paragraphs, pdf_inflating_to
from tests.support.paths import ROOT

EDITOR_KEY = "sq_bench_editor_key_000000001"
QUESTION = "指导意见在人才队伍建设方面有哪些要求？"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Stall:
    stalled: int
    seconds: float
    asks: int
    errors: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    stalled_answered_408: int


@dataclass
class Methods:
    requests: int
    metrics_bytes_before: int
    metrics_bytes_after: int
    scrape_ms: float


@dataclass
class Upload:
    name: str
    bytes: int
    status: int
    problem: str
    seconds: float
    peak_extra_rss_mb: float


def stall(server: Server, stalled: int, seconds: float) -> Stall:
    parts = urlsplit(server.url)
    socks = []
    for _ in range(stalled):
        sock = socket.create_connection((parts.hostname, parts.port))
        sock.sendall(
            f"POST /v1/ask HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {KEY}\r\n"
            "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n".encode()
            + b'{"question": "'
        )
        socks.append(sock)
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {KEY}"}) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                ok = http.post("/v1/ask", json={"question": QUESTION}).status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
    answered = 0
    for sock in socks:
        # The server answered each (408) after the route's body deadline, and closed it.
        sock.settimeout(5)
        try:
            answered += sock.recv(64).startswith(b"HTTP/1.1 408")
        except OSError:
            pass
        sock.close()
    return Stall(
        stalled,
        seconds,
        len(latencies),
        errors,
        round(percentile(latencies, 50), 1),
        round(percentile(latencies, 95), 1),
        round(max(latencies, default=0), 1),
        answered,
    )


def methods(server: Server, count: int) -> Methods:
    before = len(httpx.get(server.url + "/metrics").content)
    rng = random.Random(13)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for _ in range(count):
            http.request("".join(rng.choices(string.ascii_uppercase, k=1000)), "/v1/documents")
    started = time.perf_counter()
    after = len(httpx.get(server.url + "/metrics").content)
    return Methods(count, before, after, round((time.perf_counter() - started) * 1000, 1))


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def upload(server: Server, name: str, data: bytes, media: str) -> Upload:
    process = psutil.Process(server.process.pid)
    baseline = _tree_rss(process)
    peak = [baseline]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(process))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        r = httpx.post(
            server.url + "/v1/documents",
            files={"file": (name, data, media)},
            headers={"Authorization": f"Bearer {EDITOR_KEY}"},
            timeout=300,
        )
    finally:
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
    problem = r.json().get("type", "") if r.headers.get("content-type", "").startswith("application/problem") else ""
    return Upload(name, len(data), r.status_code, problem, round(seconds, 2), round((peak[0] - baseline) / 2**20, 1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-dir", type=Path, default=ROOT / "var" / "index")
    p.add_argument("--stalled", type=int, default=3)
    p.add_argument("--stall-seconds", type=float, default=60)
    p.add_argument("--methods", type=int, default=5000)
    args = p.parse_args()
    keys = f"bench:reader:{KEY},bench-editor:editor:{EDITOR_KEY}"
    with (
        tempfile.TemporaryDirectory(prefix="silkqa-hostile-") as tmp,
        bench_server(args.index_dir, Path(tmp), {"SILKQA_API_KEYS": keys}) as server,
    ):
        stalled = stall(server, args.stalled, args.stall_seconds)
        print(stalled, flush=True)
        odd = methods(server, args.methods)
        print(odd, flush=True)
        uploads = []
        for name, data, media in [
            ("paragraphs.docx", docx_of_empty_paragraphs(2_500_000), DOCX),
            ("slow.docx", docx_of_empty_paragraphs(400_000), DOCX),
            ("inflating.pdf", pdf_inflating_to(400 << 20), "application/pdf"),
            ("long.html", html_of_paragraphs(30_000), "text/html"),
        ]:
            uploads.append(upload(server, name, data, media))
            print(uploads[-1], flush=True)
    OUT.mkdir(exist_ok=True)
    out = OUT / f"hostile-{int(time.time())}.json"
    report = {"stall": asdict(stalled), "methods": asdict(odd), "uploads": [asdict(u) for u in uploads]}
    out.write_text(json.dumps(report, indent=2))
    print(f"details in bench/out/{out.name}")


if __name__ == "__main__":
    main()
