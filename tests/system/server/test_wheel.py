"""The package stands alone: a wheel built from this checkout, installed
(not editable) into a fresh virtualenv and run from a directory outside the
repository, builds its index from the bundled corpus, serves, and answers
with exact citations. Only ``silkqa`` lands in site-packages: no bare
``index``, ``service`` or ``eval`` packages."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.live import start
from tests.support.paths import ROOT

QUESTION = "指导意见在人才队伍建设方面有哪些要求？"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-build-isolation: build with this venv's setuptools instead of fetching one.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("silkqa-*.whl")
    return built


def test_the_wheel_holds_only_the_silkqa_namespace_with_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("silkqa-")}
    assert tops == {"silkqa"}
    for data in (
        "silkqa/corpus/manifest.json",
        "silkqa/corpus/opinion-2022.txt",
        "silkqa/prompts/answer.v1.zh.txt",
        "silkqa/service/api/static/index.html",
        "silkqa/eval/dev.jsonl",
        "silkqa/service/py.typed",
    ):
        assert data in names, data


@pytest.mark.slow
def test_an_installed_wheel_serves_and_answers_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The dependencies come from this venv's site-packages (a path line, so its
    # .pth files, and with them the editable install's finder, are not loaded);
    # silkqa itself only from the wheel.
    fresh_site = next((venv / "lib").glob("python3*/site-packages"))
    sites = [p for p in sys.path if p.endswith("site-packages")] or [sysconfig.get_paths()["purelib"]]
    (fresh_site / "dependencies.pth").write_text("\n".join(sites) + "\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)]
    subprocess.run(pip, check=True, timeout=300)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import silkqa.service.cli as m; print(m.__file__)"],
        cwd=outside,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where and str(fresh_site) in where

    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "SILKQA_INDEX_DIR": str(tmp_path / "data" / "index")}
    server = start(env, command=(str(venv / "bin" / "silkqa"), "serve"), cwd=outside, timeout=600)
    try:
        body = httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, timeout=120).json()
        assert not body["abstained"] and body["citations"][0]["doc_id"] == "guiding-opinion-2017"
        for c in body["citations"]:
            text = httpx.get(f"{server.url}/v1/documents/{c['doc_id']}").json()["text"]
            assert text[c["start"] : c["end"]] == c["quote"]
        assert "<title>silkqa" in httpx.get(server.url + "/").text  # the web page is package data too
    finally:
        server.terminate()
