"""The bundled model's forward passes (SILKQA_EMBED_BACKEND): int8 and bf16
give numpy's vectors, within a small cosine, on the corpus's own dense units;
the setting is what picks one, and an index records which one made it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from pydantic import ValidationError

from silkqa.index.ingest.chunking import chunk_document
from silkqa.index.ingest.cleaning import clean
from silkqa.index.ingest.corpus import load_corpus
from silkqa.index.store.build import build_units, staleness
from silkqa.index.store.embedding import Embedder, ModelUnavailable
from silkqa.index.store.usem3_torch import TorchUSE
from silkqa.service.library.live import LiveLibrary
from silkqa.service.settings import Settings
from tests.support.paths import CORPUS

# Measured on all 1,533 units of the corpus (bench/embed_backends.py): int8
# min 0.9995, median 0.99993; bf16 min 0.99999. The bounds leave a margin.
BOUNDS = {"int8": (0.999, 0.9998), "bf16": (0.9999, 0.99999)}


@pytest.fixture(scope="module")
def unit_texts() -> list[str]:
    """The dense unit texts of two real documents, as an ingest embeds them."""
    options = Settings().index_options()
    texts: list[str] = []
    for source in load_corpus(CORPUS):
        if source.meta.doc_id in ("guiding-opinion-2017", "progress-report-2023"):
            cleaned = clean(source.raw)
            chunks = chunk_document(source.meta.doc_id, cleaned.text, options.chunking)
            texts += build_units(source.meta, cleaned.text, chunks, options.embed_section_path)[1]
    assert len(texts) > 500 and any("蒙内铁路" in t for t in texts)
    return texts


@pytest.fixture(scope="module")
def numpy_vectors(unit_texts, embedder) -> np.ndarray:
    assert embedder.backend == "numpy"
    return embedder.encode(unit_texts)


@pytest.mark.parametrize("backend", ["int8", "bf16"])
def test_the_backend_gives_numpys_vectors_on_corpus_units(backend, unit_texts, numpy_vectors):
    vectors = Embedder(backend=backend).encode(unit_texts)
    assert vectors.shape == numpy_vectors.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = np.sum(vectors * numpy_vectors, axis=1)
    least, middle = BOUNDS[backend]
    assert cosine.min() >= least and np.median(cosine) >= middle, (cosine.min(), np.median(cosine))


def test_int8_vectors_rank_corpus_units_like_numpys(unit_texts, numpy_vectors):
    """What retrieval sees: a question's nearest units are the same ones."""
    int8 = Embedder(backend="int8")
    questions = ["蒙内铁路全长多少公里？", "指导意见在人才队伍建设方面有哪些要求？", "How long is the Mombasa-Nairobi railway?"]
    for question in questions:
        by_numpy = np.argsort(-(numpy_vectors @ Embedder().encode([question])[0]))[:5]
        by_int8 = np.argsort(-(int8.encode(unit_texts) @ int8.encode([question])[0]))[:5]
        assert by_numpy[0] == by_int8[0] and len(set(by_numpy) & set(by_int8)) >= 4, question


def test_a_text_is_embedded_on_its_own_whatever_its_batch(unit_texts):
    """Micro-batches join sentences; the n-gram windows must not cross them."""
    model = TorchUSE("int8")
    alone = np.stack([model.encode([t])[0] for t in unit_texts[:40]])
    together = model.encode(unit_texts[:40])
    assert np.allclose(alone, together, atol=2e-3)
    assert model.encode([]).shape == (0, 512)


def test_the_setting_selects_the_backend_and_the_index_records_it(monkeypatch, tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    entry = next(d for d in json.loads((CORPUS / "manifest.json").read_text())["documents"] if d["doc_id"] == "opinion-2022")
    shutil.copy(CORPUS / entry["file"], corpus / entry["file"])
    (corpus / "manifest.json").write_text(json.dumps({"documents": [entry]}, ensure_ascii=False))

    monkeypatch.setenv("SILKQA_EMBED_BACKEND", "int8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert settings.embed_backend == "int8"
    live = LiveLibrary.open(settings)
    assert live.embedder.backend == "int8"
    manifest = live.current().index.manifest
    assert manifest.model["fingerprint"].endswith("+int8") and manifest.embedded_units == manifest.unit_count
    hits = live.current().retriever.find("共建“一带一路”绿色发展的主要目标是什么？", 3)
    assert any("主要目标" in " ".join(h.chunk.section) + h.chunk.text for h in hits), [h.chunk.section for h in hits]
    # The same index is stale for the numpy forward pass: its vectors came from int8.
    reasons = staleness(manifest, embedder.identity, settings.index_options(), manifest.corpus_fingerprint)
    assert reasons and "model" in reasons[0]

    monkeypatch.setenv("SILKQA_EMBED_BACKEND", "int4")
    with pytest.raises(ValidationError, match="embed_backend"):
        Settings()


def test_a_non_numpy_backend_is_for_the_bundled_model_only(tmp_path):
    with pytest.raises(ModelUnavailable, match="bundled"):
        Embedder(str(tmp_path), backend="int8")
