"""Persisting an index so that readers never see a half-written one.

Layout under the index directory::

    CURRENT                 name of the live build (replaced atomically)
    builds/<build-id>/      one complete, immutable build
        manifest.json  documents.jsonl  chunks.jsonl  units.npz  dense.faiss  bm25/

``documents.jsonl`` holds every document's metadata and original text: a build
is also the document library it was built from, so a library change and its
index are published together, by one pointer swap.

A new build is written to a temporary directory, fsynced, renamed into
``builds/`` and only then published by atomically replacing ``CURRENT``. A crash
at any point leaves the previous build live and loadable."""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from silkqa.index.ingest.types import Chunk, DocumentMeta, OffsetMap, SourceDocument
from silkqa.index.store.lexical import LexicalIndex
from silkqa.index.store.types import BuiltIndex, IndexCorrupt, IndexedDocument, IndexManifest, IndexMissing, Units

_FILES = ("manifest.json", "documents.jsonl", "chunks.jsonl", "units.npz", "dense.faiss")
_KEEP_BUILDS = 2


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for root, _, files in os.walk(path):
        for name in files:
            with open(Path(root) / name, "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(root))


class IndexStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.builds = self.root / "builds"

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    def current_build(self) -> Path | None:
        try:
            name = self.current_file.read_text().strip()
        except FileNotFoundError:
            return None
        return self.builds / name if name else None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive across processes, for a read-build-publish cycle: two
        writers never build on the same base, and one's garbage collection never
        removes the other's staging directory. The kernel releases it when its
        holder dies, so a killed writer blocks no one. Not re-entrant."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def exists(self) -> bool:
        build = self.current_build()
        return build is not None and build.is_dir()

    # --- writing --------------------------------------------------------------

    def publish(self, built: BuiltIndex) -> Path:
        """Write ``built`` as a new build and make it the live one (under ``lock``).
        A disk too full for it is first given the room the kept earlier builds
        take, so a data directory with room for two builds keeps taking updates."""
        self.builds.mkdir(parents=True, exist_ok=True)
        self._drop_staging()  # a crashed writer's half-written builds take room until now
        try:
            return self._publish(built)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not self._drop_kept_builds():
                raise
        return self._publish(built)

    def _publish(self, built: BuiltIndex) -> Path:
        build_id = built.manifest.build_id
        if not build_id or (self.builds / build_id).exists():
            # The same build published twice into one store gets a name of its own,
            # and its written manifest says so (readers compare it with CURRENT).
            build_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
            built = dataclasses.replace(built, manifest=dataclasses.replace(built.manifest, build_id=build_id))
        staging = self.builds / f".tmp-{build_id}"
        staging.mkdir()
        try:
            _write_build(staging, built)
            _fsync_tree(staging)
            final = self.builds / build_id
            os.rename(staging, final)
            _fsync_dir(self.builds)
            pointer = self.root / f".CURRENT.{build_id}.tmp"
            pointer.write_text(build_id + "\n")
            with open(pointer, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(pointer, self.current_file)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._collect_garbage(keep=build_id)
        return final

    def _drop_staging(self) -> None:
        for staging in self.builds.glob(".tmp-*"):
            shutil.rmtree(staging, ignore_errors=True)
        for pointer in self.root.glob(".CURRENT.*.tmp"):
            pointer.unlink(missing_ok=True)

    def _drop_kept_builds(self) -> bool:
        """Remove every finished build but the live one; whether any was."""
        live = self.current_build()
        kept = [p for p in self.builds.iterdir() if p.is_dir() and not p.name.startswith(".") and p != live]
        for old in kept:
            shutil.rmtree(old, ignore_errors=True)
        return bool(kept)

    def _collect_garbage(self, keep: str) -> None:
        """Drop stale staging dirs and all but the newest finished builds."""
        finished = sorted(p for p in self.builds.iterdir() if p.is_dir() and not p.name.startswith("."))
        for old in finished[:-_KEEP_BUILDS]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
        self._drop_staging()

    # --- reading --------------------------------------------------------------

    def read_sources(self) -> list[SourceDocument]:
        """The library of the live build: every document's metadata and original
        text, without loading vectors (what a rebuild starts from)."""
        build = self._live_build()
        try:
            rows = _read_json_lines(build / "documents.jsonl")
            return [SourceDocument(DocumentMeta.from_json(row["meta"]), row["raw"]) for row in rows]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"the document library in build {build.name} is unreadable: {exc}") from exc

    def read_manifest(self) -> IndexManifest:
        build = self._live_build()
        try:
            return IndexManifest.from_json(json.loads((build / "manifest.json").read_text()))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise IndexCorrupt(f"index manifest in {build} is unreadable: {exc}") from exc

    def load(self) -> BuiltIndex:
        build = self._live_build()
        try:
            return _read_build(build)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise IndexCorrupt(f"index build {build.name} is unreadable ({exc}); rebuild it with `silkqa index`") from exc

    def load_reusable(self) -> BuiltIndex | None:
        """The newest readable build, live or kept: a source of vectors to reuse
        when the live one is damaged. Never served from."""
        if not self.builds.is_dir():
            return None
        kept = sorted((p for p in self.builds.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
        for build in [self.current_build(), *kept]:
            if build is None or not build.is_dir():
                continue
            try:
                return _read_build(build)
            except (OSError, ValueError, KeyError, TypeError, RuntimeError):
                continue
        return None

    def _live_build(self) -> Path:
        build = self.current_build()
        if build is None:
            raise IndexMissing(f"no index in {self.root}; build one with `silkqa index`")
        if not build.is_dir():
            raise IndexCorrupt(f"{self.current_file} names {build.name}, which does not exist")
        return build


def _write_json_lines(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_build(directory: Path, built: BuiltIndex) -> None:
    _write_json_lines(
        directory / "documents.jsonl",
        (
            {
                "meta": doc.meta.to_json(),
                "text": doc.text,
                "offsets": doc.offsets.to_json(),
                "fingerprint": doc.fingerprint,
                "raw_length": doc.raw_length,
                "raw": doc.raw,
            }
            for doc in built.documents.values()
        ),
    )
    _write_json_lines(
        directory / "chunks.jsonl",
        (
            {
                "chunk_id": c.chunk_id,
                "doc_id": c.doc_id,
                "ordinal": c.ordinal,
                "section": list(c.section),
                "start": c.start,
                "end": c.end,
                "context": c.context,
                "sentences": [list(s) for s in c.sentences],
            }
            for c in built.chunks
        ),
    )
    u = built.units
    np.savez(directory / "units.npz", chunk=u.chunk, kind=u.kind, start=u.start, end=u.end, text_hash=u.text_hash)
    # Written by Python, not faiss.write_index: a full disk then raises OSError (ENOSPC), not a RuntimeError.
    (directory / "dense.faiss").write_bytes(faiss.serialize_index(built.dense).tobytes())
    built.lexical.save(directory / "bm25")
    # The manifest goes last: a build directory with a manifest is complete.
    (directory / "manifest.json").write_text(json.dumps(built.manifest.to_json(), ensure_ascii=False, indent=2))


def _read_json_lines(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _read_build(directory: Path) -> BuiltIndex:
    missing = [name for name in _FILES if not (directory / name).exists()]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}")
    manifest = IndexManifest.from_json(json.loads((directory / "manifest.json").read_text()))
    documents = {}
    for row in _read_json_lines(directory / "documents.jsonl"):
        meta = DocumentMeta.from_json(row["meta"])
        documents[meta.doc_id] = IndexedDocument(
            meta=meta,
            text=row["text"],
            offsets=OffsetMap.from_json(row["offsets"], len(row["text"])),
            fingerprint=row["fingerprint"],
            raw_length=row["raw_length"],
            raw=row["raw"],
        )
    chunks = []
    for row in _read_json_lines(directory / "chunks.jsonl"):
        text = documents[row["doc_id"]].text
        chunks.append(
            Chunk(
                chunk_id=row["chunk_id"],
                doc_id=row["doc_id"],
                ordinal=row["ordinal"],
                section=tuple(row["section"]),
                start=row["start"],
                end=row["end"],
                text=text[row["start"] : row["end"]],
                context=row["context"],
                sentences=tuple((s, e) for s, e in row["sentences"]),
            )
        )
    with np.load(directory / "units.npz") as arrays:
        units = Units(
            chunk=arrays["chunk"], kind=arrays["kind"], start=arrays["start"], end=arrays["end"], text_hash=arrays["text_hash"]
        )
    dense = faiss.read_index(str(directory / "dense.faiss"))
    lexical = LexicalIndex.load(directory / "bm25", len(chunks))
    if len(chunks) != manifest.chunk_count or len(units) != manifest.unit_count or dense.ntotal != len(units):
        raise RuntimeError("chunk or unit counts disagree with the manifest")
    return BuiltIndex(manifest, documents, chunks, units, dense, lexical)
