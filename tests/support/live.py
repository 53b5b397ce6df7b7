"""Live servers on 127.0.0.1, the one way the tests and benchmarks start them:

* ``serve(app)``: an app (over a runtime a test already holds) under uvicorn
  in a thread, on a free port;
* ``start(env)`` / ``serving(env)``: a real ``silkqa serve`` (the production
  entry point) in a subprocess, for start-up faults, SIGTERM draining, the
  Docker entry command, load, soak and fuzzing.

Plus ``parse_sse`` for the event streams they answer with."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support.paths import ROOT

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- in this process ------------------------------------------------------------


@dataclass
class ThreadServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def api(self, timeout: float = 30) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_thread(app: FastAPI) -> ThreadServer:
    """``app`` under uvicorn on a free 127.0.0.1 port, in a daemon thread,
    once it accepts connections (lifespan included)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return ThreadServer(f"http://127.0.0.1:{port}", server, thread)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` served for as long as the block runs; yields its base URL."""
    live = start_thread(app)
    try:
        yield live.url
    finally:
        live.stop()


def parse_sse(text: str) -> list[tuple[str | None, dict | str]]:
    """(event name, data) of each event; data is JSON-decoded when it is JSON."""
    events: list[tuple[str | None, dict | str]] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        payload = "\n".join(data)
        try:
            events.append((name, json.loads(payload)))
        except json.JSONDecodeError:
            events.append((name, payload))
    return events


# --- as its own process ---------------------------------------------------------


def server_env(overrides: dict[str, str]) -> dict[str, str]:
    """The current environment with the venv first on PATH (as the image's
    PATH has /opt/venv/bin first), no SILKQA_* leaking in, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SILKQA_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(overrides)
    return env


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict]:
        """The server's stderr, which is JSON lines once logging is configured."""
        records = []
        for line in self.log_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    def terminate(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start(
    env: dict[str, str],
    command: Sequence[str] = ("silkqa", "serve"),
    cwd: Path = ROOT,
    timeout: float = 180,
    preexec_fn: Callable[[], None] | None = None,
) -> Server:
    """Start ``command`` with ``env`` (SILKQA_HOST/PORT are set here) and wait
    until /readyz answers 200; raises with the server's log if it never does.
    ``preexec_fn`` runs in the child first (to set resource limits, say)."""
    port = free_port()
    full_env = server_env({**env, "SILKQA_HOST": "127.0.0.1", "SILKQA_PORT": str(port)})
    log_file = tempfile.NamedTemporaryFile("wb", prefix="silkqa-server-", suffix=".log", delete=False)
    process = subprocess.Popen(
        list(command), env=full_env, cwd=cwd, stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=preexec_fn
    )
    log_file.close()
    server = Server(f"http://127.0.0.1:{port}", process, Path(log_file.name))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_text()[-4000:]}")
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"server not ready after {timeout}s:\n{server.log_text()[-4000:]}")


@contextmanager
def serving(env: dict[str, str], **kwargs) -> Iterator[Server]:
    server = start(env, **kwargs)
    try:
        yield server
    finally:
        server.terminate()
