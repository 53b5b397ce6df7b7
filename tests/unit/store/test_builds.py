"""The persisted library: manifest, stale detection, atomic publishing, damage reported."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from silkqa.index.store.build import build_units, staleness
from silkqa.index.store.types import IndexCorrupt, IndexMissing
from silkqa.service.library.lifecycle import ensure_index, store_of
from silkqa.service.library.types import IndexUnusable
from tests.support.runtimes import chunks_of, copy_library


def test_manifest_records_model_corpus_and_counts(snapshot, runtime, settings):
    m = store_of(settings).read_manifest()
    assert m.model["name"] == "usem3" and m.model["dimension"] == 512
    assert m.chunk_count == len(list(chunks_of(snapshot.index))) > 400
    assert m.document_count == 5 and len(m.corpus_fingerprint) == 64
    assert m.unit_count == len(snapshot.index.units) and m.store == settings.store


def test_index_built_with_other_settings_is_stale(snapshot, runtime, settings, embedder):
    other = replace(settings.index_options(), bm25_include_titles=False)
    reasons = staleness(snapshot.index.manifest, embedder.identity, other, snapshot.index.manifest.corpus_fingerprint)
    assert reasons and "options" in reasons[0]
    assert (
        staleness(
            snapshot.index.manifest, embedder.identity, settings.index_options(), snapshot.index.manifest.corpus_fingerprint
        )
        == []
    )


def test_stale_index_is_refused_when_rebuilding_is_off(snapshot, runtime, settings, embedder, tmp_path):
    local = copy_library(settings, tmp_path / "idx", snapshot, embedder)
    assert ensure_index(local, embedder).manifest.corpus_fingerprint == snapshot.index.manifest.corpus_fingerprint
    changed = local.model_copy(update={"chunk_max_tokens": 100, "rebuild_stale_index": False})
    with pytest.raises(IndexUnusable, match="options"):
        ensure_index(changed, embedder)
    rebuilt = ensure_index(changed.model_copy(update={"rebuild_stale_index": True}), embedder)
    assert rebuilt.manifest.options["chunking"]["max_tokens"] == 100
    # New chunk boundaries, same sentences: their vectors are reused, not embedded again.
    assert rebuilt.manifest.embedded_units < rebuilt.manifest.unit_count // 4


@pytest.mark.parametrize("damage", ["manifest", "segment list"])
def test_a_damaged_state_is_reported_not_used(snapshot, runtime, settings, embedder, tmp_path, damage):
    local = copy_library(settings, tmp_path / "idx", snapshot, embedder, store="embedded")
    store = store_of(local)
    generation = store.current_generation()
    (generation.with_suffix(".manifest.json") if damage == "manifest" else generation).write_text("{not json")
    with pytest.raises(IndexCorrupt):
        store.open()
    (store.root / "CURRENT").unlink()
    with pytest.raises(IndexMissing):
        store.open()


def test_a_failed_publication_leaves_the_live_state(snapshot, runtime, settings, embedder, tmp_path):
    local = copy_library(settings, tmp_path / "idx", snapshot, embedder, store="embedded")
    store = store_of(local)
    live = store.current_id()
    base = store.open()
    unwritable = replace(base.manifest, model={"name": object()})  # fails while the new generation is written
    with store.lock(), pytest.raises(TypeError):
        store.commit(base, [], set(), unwritable)
    assert store.current_id() == live and not list(store.generations.glob(".tmp-*"))
    assert json.loads(store.current_generation().read_text())["segments"]
    assert store.open().manifest.chunk_count == snapshot.index.manifest.chunk_count


def test_section_path_in_embedded_text_is_a_setting(snapshot, runtime):
    chunk = next(c for c in chunks_of(snapshot.index, "guiding-opinion-2017") if "新型智库" in c.text)
    doc = snapshot.document(chunk.doc_id)
    with_path = build_units(doc.meta, doc.text, [chunk], embed_section_path=True)[1]
    without = build_units(doc.meta, doc.text, [chunk], embed_section_path=False)[1]
    assert "四、组织保障" in with_path[0] and "（三）加强人才队伍建设：" in with_path[1]
    assert "四、组织保障" not in without[0] and not without[1].startswith("（三）加强人才队伍建设：")
    assert len(with_path) == len(without)
