"""Chunks along the document's own structure, within a token budget.

A chunk never crosses a section boundary, starts and ends on sentence
boundaries, and is an exact span of the cleaned text
(``text[chunk.start:chunk.end] == chunk.text``). A heading line with nothing
under it but subsections is kept with the text that follows it; each table row
is a chunk of its own, carrying its column headers in ``context``."""

from __future__ import annotations

from silkqa.index.ingest.sentences import sentence_spans
from silkqa.index.ingest.structure import parse_blocks
from silkqa.index.ingest.tokens import count_tokens
from silkqa.index.ingest.types import Block, BlockKind, Chunk, ChunkingOptions, Span

# A chunk smaller than this (a heading) is kept with the next sentence even if
# that takes it over the budget.
_MIN_CHUNK_TOKENS = 24
# Where an over-long sentence may be cut, best first.
_SOFT_BREAKS = ("；", "，", "、", " ")


def _split_long(text: str, span: Span, max_tokens: int) -> list[Span]:
    """Cut a sentence longer than the budget at its clause breaks."""
    s, e = span
    if count_tokens(text[s:e]) <= max_tokens:
        return [span]
    for mark in _SOFT_BREAKS:
        cuts = [i + 1 for i in range(s, e - 1) if text[i] == mark]
        if not cuts:
            continue
        pieces, piece_start, last_ok = [], s, None
        for cut in cuts + [e]:
            if count_tokens(text[piece_start:cut]) <= max_tokens:
                last_ok = cut
                continue
            if last_ok is None:
                break
            pieces.append((piece_start, last_ok))
            piece_start, last_ok = last_ok, (cut if count_tokens(text[last_ok:cut]) <= max_tokens else None)
            if last_ok is None:
                break
        else:
            pieces.append((piece_start, e))
            return [p for piece in pieces for p in _split_long(text, piece, max_tokens)]
    # No usable break: cut by characters (rare: long runs without punctuation).
    step = max(1, (e - s) * max_tokens // max(count_tokens(text[s:e]), 1))
    return [(i, min(i + step, e)) for i in range(s, e, step)]


def _group(blocks: list[Block]) -> list[list[Block]]:
    """Runs of consecutive blocks that share a section; table rows stand alone."""
    groups: list[list[Block]] = []
    for block in blocks:
        joinable = (
            groups
            and block.kind is not BlockKind.TABLE_ROW
            and groups[-1][-1].kind is not BlockKind.TABLE_ROW
            and groups[-1][-1].path == block.path
        )
        if joinable:
            groups[-1].append(block)
        else:
            groups.append([block])
    return groups


def _is_heading_only(group: list[Block]) -> bool:
    return all(b.kind is BlockKind.HEADING for b in group)


def chunk_document(doc_id: str, text: str, options: ChunkingOptions) -> list[Chunk]:
    chunks: list[Chunk] = []
    groups = _group(parse_blocks(text))
    carry_start: int | None = None  # a heading-only group waiting for its body
    for idx, group in enumerate(groups):
        following = groups[idx + 1] if idx + 1 < len(groups) else None
        path = group[0].path
        if _is_heading_only(group) and following and following[0].path[: len(path)] == path:
            carry_start = group[0].start if carry_start is None else carry_start
            continue
        sentences = [
            piece
            for block in group
            for span in sentence_spans(text, block.start, block.end)
            for piece in _split_long(text, span, options.max_tokens)
        ]
        context = group[0].context if group[0].kind is BlockKind.TABLE_ROW else ""
        for chunk_sentences in _pack(text, sentences, options):
            start = chunk_sentences[0][0]
            if carry_start is not None:
                start, carry_start = carry_start, None
            end = chunk_sentences[-1][1]
            chunks.append(
                Chunk(
                    chunk_id=f"{doc_id}#{len(chunks)}",
                    doc_id=doc_id,
                    ordinal=len(chunks),
                    section=path,
                    start=start,
                    end=end,
                    text=text[start:end],
                    context=context,
                    sentences=tuple(sentence_spans(text, start, chunk_sentences[0][0])) + tuple(chunk_sentences),
                )
            )
    return chunks


def _pack(text: str, sentences: list[Span], options: ChunkingOptions) -> list[list[Span]]:
    """Greedy packing of consecutive sentences under the token budget."""
    packed: list[list[Span]] = []
    current: list[Span] = []
    for span in sentences:
        # A heading-sized start is never flushed alone: it belongs with what follows.
        too_long = count_tokens(text[current[0][0] : span[1]]) > options.max_tokens if current else False
        if too_long and count_tokens(text[current[0][0] : current[-1][1]]) >= _MIN_CHUNK_TOKENS:
            packed.append(current)
            overlap = current[-options.overlap_sentences :] if options.overlap_sentences else []
            current = [s for s in overlap if count_tokens(text[s[0] : span[1]]) <= options.max_tokens]
        current.append(span)
    if current:
        packed.append(current)
    return packed
