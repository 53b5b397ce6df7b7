"""A real ``silkqa serve`` (uvicorn, the production entry point) in a subprocess
on 127.0.0.1, for the tests and benchmarks that need a live server: load, soak,
schemathesis, SIGTERM draining, start-up faults, the Docker entry command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
