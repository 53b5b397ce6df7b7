"""The store interface on a real library: incremental segments and
tombstones with library-wide BM25 statistics, merging, filters on documents,
and the approximate dense index's recall. Filters run on every backend; the
segment tests look at the embedded store's own files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from silkqa.index.store import embedded
from silkqa.index.store.embedded import EmbeddedStore
from silkqa.index.store.segments import merge_segments
from silkqa.service.library.lifecycle import ingest, store_of
from silkqa.service.library.types import NewDocument
from tests.support.makedocs import LANMEI
from tests.support.paths import ROOT
from tests.support.runtimes import chunks_of, copy_library

QUESTION = "指导意见在人才队伍建设方面有哪些要求？"


def _embedded(runtime) -> EmbeddedStore:
    store = runtime.library.store
    if not isinstance(store, EmbeddedStore):
        pytest.skip("looks at the embedded store's segments")
    return store


def _segments(store: EmbeddedStore) -> list[dict]:
    return json.loads(store.current_generation().read_text())["segments"]


def _ranked(view, keywords: str, limit: int = 20) -> list[tuple[str, float]]:
    found = view.search_lexical(keywords, limit)
    return [(view.chunk(int(k)).chunk_id, round(float(s), 4)) for k, s in zip(found.keys, found.scores, strict=True)]


def test_an_update_writes_one_segment_for_its_document_and_tombstones_the_old(runtime_copy):
    store = _embedded(runtime_copy)
    before = _segments(store)
    files = {p: p.stat().st_ino for s in before for p in (store.segments / s["id"]).iterdir()}

    added = runtime_copy.editor.add(NewDocument(text=LANMEI, doc_id="lanmei"))
    after_add = _segments(store)
    assert len(after_add) == len(before) + 1 and after_add[-1]["dead"] == {}
    new_segment = store.segments / after_add[-1]["id"]
    assert json.loads((new_segment / "meta.json").read_text())["chunks"] == added.chunk_count  # only its chunks

    runtime_copy.editor.replace("opinion-2022", NewDocument(text=LANMEI.replace("12个", "13个"), metadata={"title": "替换"}))
    after_replace = _segments(store)
    assert len(after_replace) == len(before) + 2
    assert "opinion-2022" in after_replace[0]["dead"]  # the old version, tombstoned where it lives

    runtime_copy.editor.delete("lanmei")
    after_delete = _segments(store)
    # A delete writes no segment, only a tombstone; a segment left with no live document leaves the generation.
    assert {s["id"] for s in after_delete} == {s["id"] for s in after_replace} - {after_add[-1]["id"]}
    # Nothing already written was rewritten.
    assert all(p.stat().st_ino == inode for p, inode in files.items())


def test_bm25_across_segments_and_tombstones_scores_as_one_fresh_library(runtime_copy, embedder, tmp_path):
    store = _embedded(runtime_copy)
    editor = runtime_copy.editor
    editor.add(NewDocument(text=LANMEI, doc_id="lanmei"))
    editor.replace("guiding-opinion-2017", NewDocument(text=runtime_copy.library.current().document("opinion-2022").raw))
    editor.delete("strategy-framework-paper")
    live = runtime_copy.library.current().index
    assert len(_segments(store)) >= 3

    fresh_settings = runtime_copy.settings.model_copy(update={"index_dir": tmp_path / "fresh"})
    fresh_store = store_of(fresh_settings)
    with fresh_store.lock():
        fresh = ingest(fresh_store, fresh_settings, embedder, list(store.read_sources()), None, live.known_vectors, True)
    assert len(_segments(fresh_store)) == 1
    for keywords in ("人才队伍建设 要求", "绿色金融 煤电", "水质自动监测站"):
        assert _ranked(live, keywords) == _ranked(fresh, keywords)
    assert live.lexical.idf("人才") == pytest.approx(fresh.lexical.idf("人才")) and fresh.lexical.idf("人才") > 0


def test_merging_segments_changes_no_result(runtime_copy):
    store = _embedded(runtime_copy)
    editor = runtime_copy.editor
    for n in range(3):
        editor.add(NewDocument(text=LANMEI.replace("12个", f"{20 + n}个"), doc_id=f"lanmei-{n}"))
    editor.delete("lanmei-1")
    runtime_copy.library.wait_for_upkeep(60)
    view = runtime_copy.library.current().index
    before = [_ranked(view, q) for q in ("水质自动监测站", QUESTION)]
    dense = view.search_dense(runtime_copy.library.embedder.encode([QUESTION])[0], 10)
    before_dense = [view.chunk(int(k)).chunk_id for k in dense.chunks]

    store.options = store.options.__class__(**{**store.options.__dict__, "max_segments": 1})
    assert store.maintain()
    assert len(_segments(store)) == 1 and not _segments(store)[0]["dead"]  # tombstoned documents are gone
    merged = store.open()
    assert [_ranked(merged, q) for q in ("水质自动监测站", QUESTION)] == before
    dense = merged.search_dense(runtime_copy.library.embedder.encode([QUESTION])[0], 10)
    assert [merged.chunk(int(k)).chunk_id for k in dense.chunks] == before_dense
    assert "lanmei-1" not in merged.documents and merged.manifest.document_count == 7


def test_a_merge_takes_the_whole_tier_of_small_segments(runtime_copy):
    store = _embedded(runtime_copy)
    for n in range(3):
        runtime_copy.editor.add(NewDocument(text=LANMEI.replace("12个", f"{20 + n}个"), doc_id=f"lanmei-{n}"))
    runtime_copy.library.wait_for_upkeep(60)
    view = store.open()
    assert len(view.parts) == 4  # the library's segment and one per added document
    largest = max(view.parts, key=lambda p: p.segment.n_chunks)

    store.options = store.options.__class__(**{**store.options.__dict__, "max_segments": 3})
    plan = store.merge_plan(view)
    # One segment too many names the two smallest; the third small one is no larger than
    # they are together, so it goes with them, and the library's own segment stays.
    assert len(plan) == 3 and largest not in plan
    assert store.maintain()
    assert sorted(p.segment.n_chunks for p in store.open().parts) == sorted(
        [largest.segment.n_chunks, sum(p.segment.n_chunks for p in plan)]
    )


@pytest.mark.stores
def test_searches_are_filtered_by_document_before_the_top_is_taken(runtime):
    snapshot = runtime.library.current()
    view, retriever = snapshot.index, snapshot.retriever
    only = frozenset({"opinion-2022"})
    query = retriever.analyze(QUESTION)
    unfiltered = retriever.search(query, 5)
    assert {h.chunk.doc_id for h in unfiltered} != {"opinion-2022"}  # the filter has work to do
    hits = retriever.search(query, 5, doc_ids=only)
    assert len(hits) == 5 and {h.chunk.doc_id for h in hits} == {"opinion-2022"}
    lexical = view.search_lexical(query.keywords, 5, only)
    assert len(lexical) == 5 and set(view.document_of(lexical.keys)) == {"opinion-2022"}
    dense = view.search_dense(query.vector, 5, only)
    assert len(dense.units) == 5 and set(view.document_of(dense.chunks)) == {"opinion-2022"}
    assert retriever.search(query, 5, doc_ids=frozenset({"no-such-document"})) == []


def test_the_approximate_dense_index_finds_what_exact_search_finds(settings, snapshot, embedder, tmp_path):
    if settings.store != "embedded":
        pytest.skip("the embedded store's approximate index")
    own = copy_library(settings, tmp_path / "exact", snapshot, embedder)
    approximate = own.model_copy(update={"index_dir": tmp_path / "ivf", "dense_exact_max_units": 100})
    store = store_of(approximate)
    exact_view = store_of(own).open()
    with store.lock():
        ivf_view = ingest(store, approximate, embedder, list(store_of(own).read_sources()), None, exact_view.known_vectors, False)
    assert json.loads((store.segments / _segments(store)[0]["id"] / "meta.json").read_text())["dense"] == "ivf-sq8"
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines()[:60]]
    recalls = []
    for vector in embedder.encode(questions):
        exact = {exact_view.chunk(int(k)).chunk_id for k in exact_view.search_dense(vector, 10).chunks}
        found = {ivf_view.chunk(int(k)).chunk_id for k in ivf_view.search_dense(vector, 10).chunks}
        recalls.append(len(exact & found) / max(1, len(exact)))
    assert np.mean(recalls) >= 0.98


def test_every_chunk_and_unit_of_a_document_is_where_its_keys_say(runtime):
    view = runtime.library.current().index
    for doc_id in view.documents:
        chunks = list(chunks_of(view, doc_id))
        assert len(chunks) == view.chunk_count(doc_id) and all(c.doc_id == doc_id for c in chunks)
        assert [c.ordinal for c in chunks] == sorted(c.ordinal for c in chunks)
        key = int(view.chunk_keys(doc_id)[0])
        assert len(view.units.sentence_units(key)) == len(chunks[0].sentences)


def test_an_update_made_while_a_merge_is_written_goes_on_and_is_kept(runtime_copy):
    """The merge is written outside the writers' lock: a deletion meanwhile
    does not wait for it, and its tombstone is carried into the merge."""
    store = _embedded(runtime_copy)
    editor = runtime_copy.editor
    for n in range(2):
        editor.add(NewDocument(text=LANMEI.replace("12个", f"{20 + n}个"), doc_id=f"lanmei-{n}"))
    runtime_copy.library.wait_for_upkeep(60)
    options = store.options
    store.options = options.__class__(**{**options.__dict__, "max_segments": 1})
    planned = store.plan_merge()
    store.options = options  # the deletion's own upkeep plans nothing
    assert planned is not None
    staging, plan = planned
    assert len(plan) == len(_segments(store)) >= 3
    merge_segments(staging, [(p.segment, set(p.dead)) for p in plan], options.exact_max_units)

    view = runtime_copy.library.current().index
    smallest = min((d for d in view.documents if not d.startswith("lanmei")), key=view.chunk_count)
    editor.delete(smallest)
    runtime_copy.library.wait_for_upkeep(60)
    deleted = runtime_copy.library.current().index
    expected = [_ranked(deleted, q) for q in ("水质自动监测站", QUESTION, "绿色金融 煤电")]

    assert store.publish_merge(staging, plan)
    merged = store.open()
    assert [s["id"] for s in _segments(store)] != [p.segment.id for p in plan] and len(_segments(store)) == 1
    assert list(_segments(store)[0]["dead"]) == [smallest]
    assert smallest not in merged.documents and {"lanmei-0", "lanmei-1"} <= set(merged.documents)
    assert [_ranked(merged, q) for q in ("水质自动监测站", QUESTION, "绿色金融 煤电")] == expected
    assert not any(store.merging.iterdir())


def _assert_tops_are_exact(view) -> None:
    keys = np.concatenate([view.chunk_keys(d) for d in view.documents])
    dev = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines()[::8]]
    for question in (QUESTION, "绿色金融 煤电 项目", "How much clean electricity does the Mozura wind farm supply?", *dev):
        keywords = view.lexical.keywords(question)
        every = np.sort(view.lexical_scores(keywords, keys))[::-1]
        for limit in (1, 5, 20):
            top = view.search_lexical(keywords, limit)
            expected = every[:limit][every[:limit] > 0]
            assert np.allclose(top.scores, expected, rtol=1e-4), question
            assert np.allclose(view.lexical_scores(keywords, top.keys), top.scores, rtol=1e-4)


@pytest.mark.stores
def test_the_lexical_top_is_the_top_of_every_chunks_score(runtime):
    """The pruned top-k search (MaxScore in the embedded store, Milvus' own
    in Milvus) returns exactly the best of all chunks' BM25 scores."""
    _assert_tops_are_exact(runtime.library.current().index)


def test_the_lexical_top_stays_exact_when_the_best_are_scored_in_full_early(runtime, monkeypatch):
    """At 1M chunks the embedded store scores its best chunks so far in full
    before a long posting list, to stop before it; this library's lists are
    too short for that, so it is made to happen before every term."""
    _embedded(runtime)
    monkeypatch.setattr(embedded, "_SKIP_WORTH", 0)
    _assert_tops_are_exact(runtime.library.current().index)


@pytest.mark.stores
def test_quotes_in_a_question_reach_no_store_filter(runtime):
    """Words with quotation marks and backslashes are looked up as words: in
    Milvus a term like "region's" once ended the filter string it was put in."""
    snapshot = runtime.library.current()
    lexical = snapshot.index.lexical
    for word in ("region's", 'say "green"', "back\\slash", "绿色'"):
        assert lexical.idf(word) == 0.0
    assert lexical.idf("绿色") > 0
    question = "By how much does the region's per-capita ecological footprint exceed its carrying capacity?"
    hits = snapshot.retriever.find(question, 5)
    assert any("生态足迹" in h.chunk.text for h in hits)
