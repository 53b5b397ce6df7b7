"""The documents: list and read them (their cleaned text, and a cleaned span
mapped back to the original), add, replace and delete them. Parsing and error
mapping only: the work is ``service.library.editor.LibraryEditor``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from silkqa.index.ingest.types import (
    DocumentError,
    FormatError,
    InvalidDocument,
    TooCostlyDocument,
    UndecodableDocument,
    UnsupportedFormat,
)
from silkqa.index.store.types import IndexedDocument
from silkqa.service.api.checks import problem_responses
from silkqa.service.api.deps import RuntimeDep, SnapshotDep
from silkqa.service.api.errors import ApiError
from silkqa.service.api.schemas import DocumentDetail, DocumentInfo, DocumentList
from silkqa.service.library.types import (
    DocumentExists,
    DocumentNotFound,
    DocumentTooLong,
    LibraryError,
    NewDocument,
    UpdateResult,
    UploadTooLarge,
)
from silkqa.service.retrieval.types import Snapshot, UnknownDocument

router = APIRouter(tags=["documents"])

ERRORS = problem_responses(400, 404, 409, 413, 415, 422)
READ_ERRORS = problem_responses(400, 404, 422)
# Multipart framing and metadata fields on top of the file itself.
_FORM_OVERHEAD = 64 * 1024


class DocumentMetadataIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(None, max_length=500, description="Default: the document's first line.")
    title_en: str | None = Field(None, max_length=500)
    issuer: str | None = Field(None, max_length=500, description="Default: an issuer before a 关于… title, if any.")
    date: str | None = Field(None, max_length=40, description="Default: a 发布时间 or date line near the start.")
    date_note: str | None = Field(None, max_length=1000)
    doc_number: str | None = Field(None, max_length=100, description="Default: a 〔2022〕408号 number near the start.")
    kind: str | None = Field(None, max_length=100)
    aliases: list[str] | None = Field(None, max_length=50, description="Names users call the document by.")


class DocumentTextIn(DocumentMetadataIn):
    text: str = Field(..., min_length=1, description="The document's text (plain text or Markdown).")
    doc_id: str | None = Field(None, description="Default: derived from the title's hash.")


class DocumentChange(BaseModel):
    doc_id: str
    action: str = Field(description='"added", "replaced", "unchanged" or "deleted".')
    title: str | None
    chunk_count: int = Field(description="Chunks of this document in the new index.")
    embedded_chunks: int = Field(description="Chunks this update embedded; unchanged text reuses earlier vectors.")
    embedded_units: int
    document_count: int
    build_id: str
    seconds: float

    @classmethod
    def of(cls, result: UpdateResult) -> DocumentChange:
        return cls(**result.__dict__)


class SpanMapping(BaseModel):
    start: int = Field(description="Span in the cleaned text (what citations use).")
    end: int
    original_start: int = Field(description="The same passage in the original text.")
    original_end: int
    original_text: str = Field(description="original[original_start:original_end], line wraps and all.")


class OriginalText(BaseModel):
    doc_id: str
    source_format: str | None = Field(description="text, markdown, html, pdf or docx; null for the bundled corpus (text).")
    original_file: str | None
    text: str = Field(description="The original text (for PDF, HTML and .docx: the text extracted from the file).")
    offset_map: list[list[int]] = Field(
        description="Runs [clean_start, original_start, length], as in GET /v1/documents/{doc_id}."
    )
    span: SpanMapping | None = Field(None, description="Where cleaned [start, end) came from, when asked.")


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": ".txt .md .html .pdf .docx"},
                        "doc_id": {"type": "string"},
                        **{
                            name: {"type": "string"}
                            for name in ("title", "title_en", "issuer", "date", "date_note", "doc_number", "kind")
                        },
                        "aliases": {"type": "string", "description": "comma-separated"},
                    },
                }
            },
            "application/json": {"schema": DocumentTextIn.model_json_schema(ref_template="#/components/schemas/{model}")},
        },
    }
}


def _document(snapshot: Snapshot, doc_id: str) -> IndexedDocument:
    try:
        return snapshot.document(doc_id)
    except UnknownDocument:
        raise ApiError(404, "unknown-document", "Unknown document", f"no document with id {doc_id!r}") from None


def _invalid(exc: ValidationError) -> ApiError:
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
    return ApiError(422, "invalid-request", "Invalid request", detail)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (whatever
    Content-Length claims), so an oversized upload never fills memory."""
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, "upload-too-large", "Upload too large", f"uploads are limited to {limit} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def _new_document(request: Request, max_upload_bytes: int) -> NewDocument:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await _read_body(request, max_upload_bytes + _FORM_OVERHEAD)
    if media == "application/json":
        try:
            parsed = DocumentTextIn.model_validate_json(body)
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                raise ApiError(400, "malformed-json", "Malformed JSON", "The request body is not valid JSON.") from None
            raise _invalid(exc) from None
        metadata = parsed.model_dump(exclude={"text", "doc_id"}, exclude_none=True)
        return NewDocument(text=parsed.text, metadata=metadata, doc_id=parsed.doc_id)
    if media == "multipart/form-data":
        return await _from_form(request, body)
    raise ApiError(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        "send multipart/form-data with a `file` field, or application/json with `text`",
    )


async def _from_form(request: Request, body: bytes) -> NewDocument:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=20)
    except Exception as exc:  # malformed multipart framing, from python-multipart or starlette
        raise ApiError(400, "malformed-form", "Malformed form", f"the multipart body cannot be read: {exc}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(422, "invalid-request", "Invalid request", "file: a multipart `file` field is required")
    fields: dict[str, str | list[str]] = {k: v for k, v in form.items() if k not in ("file", "doc_id") and isinstance(v, str)}
    if isinstance(aliases := fields.get("aliases"), str):
        fields["aliases"] = [a.strip() for a in aliases.split(",") if a.strip()]
    try:
        metadata = DocumentMetadataIn.model_validate(fields).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise _invalid(exc) from None
    doc_id = form.get("doc_id")
    return NewDocument(
        data=await upload.read(),
        filename=upload.filename,
        content_type=upload.content_type,
        metadata=metadata,
        doc_id=doc_id if isinstance(doc_id, str) and doc_id.strip() else None,
    )


_STATUS: list[tuple[type[Exception], int, str, str]] = [
    (UploadTooLarge, 413, "upload-too-large", "Upload too large"),
    (DocumentTooLong, 422, "document-too-long", "Document too long"),
    (UnsupportedFormat, 415, "unsupported-format", "Unsupported file type"),
    (UndecodableDocument, 422, "undecodable-document", "Unreadable document"),
    (TooCostlyDocument, 422, "document-too-costly", "Document too costly to read"),
    (DocumentExists, 409, "document-exists", "Document exists"),
    (DocumentNotFound, 404, "unknown-document", "Unknown document"),
    (InvalidDocument, 422, "invalid-document", "Invalid document"),
    (LibraryError, 422, "invalid-document", "Invalid document"),
    (FormatError, 422, "undecodable-document", "Unreadable document"),
]


async def _run(action: Callable[[], UpdateResult]) -> DocumentChange:
    """Run a library update off the event loop; its errors become problem documents."""
    try:
        return DocumentChange.of(await run_in_threadpool(action))
    except (LibraryError, DocumentError) as exc:
        status, slug, title = next((s, sl, t) for cls, s, sl, t in _STATUS if isinstance(exc, cls))
        raise ApiError(status, slug, title, str(exc)) from None


@router.get("/v1/documents", response_model=DocumentList)
def documents(snapshot: SnapshotDep) -> DocumentList:
    return DocumentList(documents=[DocumentInfo.of(d, snapshot.chunk_count(d.meta.doc_id)) for d in snapshot.documents()])


@router.get("/v1/documents/{doc_id}", response_model=DocumentDetail, responses=READ_ERRORS)
def document(doc_id: str, snapshot: SnapshotDep) -> DocumentDetail:
    """Metadata and cleaned text, so a client can highlight a citation span."""
    doc = _document(snapshot, doc_id)
    info = DocumentInfo.of(doc, snapshot.chunk_count(doc_id))
    return DocumentDetail(**info.model_dump(), text=doc.text, offset_map=doc.offsets.to_json())


@router.post("/v1/documents", response_model=DocumentChange, status_code=201, responses=ERRORS, openapi_extra=_BODY_DOC)
async def add_document(request: Request, runtime: RuntimeDep) -> DocumentChange:
    """Add a document: a file upload (multipart `file`: .txt .md .html .pdf .docx)
    or JSON `{"text", "title", ...}`. Returns its doc id and chunk count once the
    new index is live."""
    new = await _new_document(request, runtime.settings.max_upload_bytes)
    return await _run(lambda: runtime.editor.add(new))


@router.put("/v1/documents/{doc_id}", response_model=DocumentChange, responses=ERRORS, openapi_extra=_BODY_DOC)
async def replace_document(doc_id: str, request: Request, runtime: RuntimeDep) -> DocumentChange:
    """Replace a document's text and metadata (same body as POST). Unchanged
    content is a no-op (`"action": "unchanged"`, nothing embedded)."""
    new = await _new_document(request, runtime.settings.max_upload_bytes)
    return await _run(lambda: runtime.editor.replace(doc_id, new))


@router.delete("/v1/documents/{doc_id}", response_model=DocumentChange, responses=ERRORS)
async def delete_document(doc_id: str, runtime: RuntimeDep) -> DocumentChange:
    """Remove a document; answers stop citing it as soon as this returns."""
    return await _run(lambda: runtime.editor.delete(doc_id))


@router.get("/v1/documents/{doc_id}/original", response_model=OriginalText, responses=ERRORS)
def original(
    doc_id: str,
    snapshot: SnapshotDep,
    start: int | None = Query(None, ge=0, description="Cleaned-text span to map (with `end`)."),
    end: int | None = Query(None, ge=0),
) -> OriginalText:
    """The document's original text and, for a cleaned span such as a
    citation's `start`/`end`, the span it came from there, so a client can
    highlight the passage in the original."""
    doc = _document(snapshot, doc_id)
    span = None
    if (start is None) != (end is None):
        raise ApiError(422, "invalid-request", "Invalid request", "give both start and end, or neither")
    if start is not None and end is not None:
        if not start <= end <= len(doc.text):
            raise ApiError(422, "invalid-request", "Invalid request", f"span must satisfy 0 <= start <= end <= {len(doc.text)}")
        o_start, o_end = doc.offsets.to_original(start, end)
        span = SpanMapping(start=start, end=end, original_start=o_start, original_end=o_end, original_text=doc.raw[o_start:o_end])
    m = doc.meta
    return OriginalText(
        doc_id=doc_id,
        source_format=m.source_format,
        original_file=m.original_file,
        text=doc.raw,
        offset_map=doc.offsets.to_json(),
        span=span,
    )
