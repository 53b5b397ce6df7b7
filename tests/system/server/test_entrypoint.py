"""The Docker image without a Docker runtime: the Dockerfile passes hadolint, and
its commands run here with its environment (image paths mapped onto this
checkout and a temporary data directory, the bind address onto 127.0.0.1): the
build stage's `silkqa index`, then the runtime CMD, which must serve that very
index, pass the HEALTHCHECK command and stop cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from silkqa.index.store.embedded import EmbeddedStore
from silkqa.service.settings import Settings
from tests.support.live import VENV_BIN, server_env, start
from tests.support.paths import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        out.append((keyword.upper(), args.strip()))
        pending = ""
    return out


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, args in instructions(text):
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, args))
    return result


def environment(stage: list[tuple[str, str]], base: dict[str, str]) -> dict[str, str]:
    """The stage's ENV on top of ``base``, with $VAR references expanded."""
    env = dict(base)
    for keyword, args in stage:
        if keyword == "ENV":
            for pair in shlex.split(args):
                name, _, value = pair.partition("=")
                env[name] = os.path.expandvars(value.replace("$PATH", env.get("PATH", "")))
    return env


def test_instructions_join_continuations_and_skip_comments():
    text = 'FROM x AS build\n# note\nENV A=1 \\\n    B="two words"\nRUN a \\\n    && b\n'
    assert instructions(text) == [("FROM", "x AS build"), ("ENV", 'A=1 B="two words"'), ("RUN", "a && b")]
    assert environment(stages(text)[0], {"PATH": "/bin"}) == {"PATH": "/bin", "A": "1", "B": "two words"}


def test_dockerfile_passes_hadolint():
    done = subprocess.run([str(VENV_BIN / "hadolint"), str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_runtime_stage_is_slim_non_root_with_a_data_volume_and_a_readiness_healthcheck():
    build, runtime = stages(DOCKERFILE.read_text())
    assert build[0][1].endswith("AS build") and "slim" in runtime[0][1]
    user = dict(runtime)["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert json.loads(dict(runtime)["VOLUME"]) == ["/data"]
    assert "/readyz" in dict(runtime)["HEALTHCHECK"]
    copied = [args for keyword, args in runtime if keyword == "COPY"]
    assert all(args.startswith("--from=build") for args in copied)  # nothing but build output
    assert not any("--chown" in args for args in copied if "/data" not in args)  # code and venv stay root's
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", "tests", ".git"} <= set(ignored)


@pytest.mark.slow
def test_the_images_commands_index_then_serve_outside_docker(tmp_path):
    build, runtime = stages(DOCKERFILE.read_text())
    image_paths = {"/opt/venv/bin": str(VENV_BIN), "/data": str(tmp_path / "data")}

    def mapped(env: dict[str, str]) -> dict[str, str]:
        for image_path, here in image_paths.items():
            env = {k: v.replace(image_path, here) for k, v in env.items()}
        return env

    build_env = mapped(environment(build, {"PATH": os.environ["PATH"]}))
    (index_run,) = [args for keyword, args in build if keyword == "RUN" and args.startswith("silkqa ")]
    done = subprocess.run(
        shlex.split(index_run), env=server_env(build_env), cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    store = EmbeddedStore(Path(build_env["SILKQA_INDEX_DIR"]), Settings().store_options(), Settings().index_options())
    built = store.current_generation()

    runtime_env = mapped(environment(runtime, {"PATH": os.environ["PATH"]}))
    assert runtime_env["SILKQA_HOST"] == "0.0.0.0"  # the image listens on all interfaces; here, loopback only
    assert runtime_env["SILKQA_INDEX_DIR"] == build_env["SILKQA_INDEX_DIR"]
    command = json.loads(dict(runtime)["CMD"])
    server = start(runtime_env, command=command, cwd=ROOT)
    try:
        ready = httpx.get(server.url + "/readyz").json()
        assert ready["status"] == "ready"
        answer = httpx.post(
            server.url + "/v1/ask", json={"question": "指导意见在人才队伍建设方面有哪些要求？"}, timeout=60
        ).json()
        assert answer["citations"][0]["doc_id"] == "guiding-opinion-2017"
        assert store.current_generation() == built  # served the index built "at build time", not a rebuild

        healthcheck = json.loads(dict(runtime)["HEALTHCHECK"].split(" CMD ", 1)[1])
        port = server.url.rsplit(":", 1)[1]
        probe = subprocess.run(healthcheck, env=server_env({**runtime_env, "SILKQA_PORT": port}), timeout=30)
        assert probe.returncode == 0
    finally:
        assert server.terminate() == -signal.SIGTERM  # a clean stop: uvicorn re-raises the signal once drained
    assert not any("rebuilding" in r.get("message", "") for r in server.log_records())
