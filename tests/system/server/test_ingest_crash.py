"""A SIGKILL in the middle of an ingest (while embedding, while writing) leaves
the previous index live and answering, and the next update goes through."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from silkqa.service.library.lifecycle import store_of
from silkqa.service.library.types import NewDocument
from silkqa.service.runtime import Runtime
from tests.support.makedocs import LANMEI, big_document
from tests.support.paths import ROOT, read_corpus
from tests.support.runtimes import ask


def _kill_while(proc: subprocess.Popen, moment: str, segments: Path) -> None:
    """SIGKILL ``proc`` while it embeds (after its log line says so) or while it
    writes the new segment (as soon as its staging directory appears)."""
    deadline = time.monotonic() + 180
    if moment == "embedding":
        for line in proc.stderr:
            if "embedding" in line or time.monotonic() > deadline:
                break
        time.sleep(0.5)
    else:
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep its stderr pipe flowing
        while proc.poll() is None and time.monotonic() < deadline:
            if any(entry.name.startswith(".tmp-") for entry in os.scandir(segments)):
                break
            time.sleep(0.0002)  # leave the cores to the ingest
    assert proc.poll() is None, f"the ingest finished before it could be killed while {moment}"
    proc.send_signal(signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["embedding", "writing"])
def test_sigkill_midway_through_an_ingest_leaves_the_previous_index_live(runtime_copy, embedder, tmp_path, moment):
    store = store_of(runtime_copy.settings)
    before = store.read_manifest()
    path = tmp_path / "big.txt"
    # To be killed while writing, it need not embed much: a bundled text under a new id embeds nothing.
    path.write_text(big_document(300) if moment == "embedding" else read_corpus("opinion-2022"), encoding="utf-8")
    env = {
        **os.environ,
        "SILKQA_INDEX_DIR": str(runtime_copy.settings.index_dir),
        "SILKQA_CORPUS_DIR": str(runtime_copy.settings.corpus_dir),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "silkqa.service.cli", "add", str(path), "--doc-id", "big"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        _kill_while(proc, moment, store.segments)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if moment == "writing":
        assert list(store.segments.glob(".tmp-*")), "killed after the staging directory appeared"

    assert store.read_manifest().build_id == before.build_id
    reopened = Runtime.open(runtime_copy.settings, embedder)
    assert (
        reopened.library.current().index.manifest.build_id == before.build_id
        and "big" not in reopened.library.current().index.documents
    )
    answer = ask(reopened, "指导意见在人才队伍建设方面有哪些要求？", 3)
    assert not answer.abstained
    for c in answer.citations:
        assert reopened.library.current().document(c.doc_id).text[c.start : c.end] == c.quote
    # The killed process's lock died with it: the next update goes through, and
    # its publication clears the half-written directory away.
    assert reopened.editor.add(NewDocument(text=LANMEI, doc_id="lanmei")).document_count == 6
    assert not list(store.segments.glob(".tmp-*"))
