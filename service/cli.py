"""``silkqa`` command line: index, serve, ask."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from service.settings import Settings


def _settings() -> Settings:
    return Settings()


def cmd_index(args: argparse.Namespace) -> int:
    from index.embedding import Embedder
    from service.engine import build_and_publish, ensure_index

    settings = _settings()
    embedder = Embedder(settings.embedding_model)
    built = build_and_publish(settings, embedder) if args.force else ensure_index(settings, embedder)
    m = built.manifest
    print(
        f"index at {settings.index_dir}: {m.document_count} documents, {m.chunk_count} chunks, "
        f"{m.unit_count} dense units, model {m.model['name']} ({m.model['dimension']}-d), built {m.built_at}"
        + (f" in {m.build_seconds}s" if m.build_seconds else "")
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.api.app import create_app
    from service.engine import QAEngine

    settings = _settings()
    engine = QAEngine.open(settings)  # builds the index first when it is missing
    uvicorn.run(create_app(engine=engine), host=args.host or settings.host, port=args.port or settings.port)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from service.api.schemas import AskResponse
    from service.engine import QAEngine

    engine = QAEngine.open(_settings())
    answer = engine.ask(args.question, args.top_k)
    response = AskResponse.of(answer, {d.meta.doc_id: d.meta.title for d in engine.documents()})
    if args.json:
        print(json.dumps(response.model_dump(), ensure_ascii=False, indent=2))
        return 0
    print(response.answer)
    print()
    for c in response.citations:
        print(f"[{c.marker}] 《{c.title}》 {c.section}  ({c.doc_id} {c.start}-{c.end})")
        print(f"    {c.quote}")
    if response.abstained and response.passages:
        print("Related passages:")
        for p in response.passages[:3]:
            print(f"  - 《{p.title}》 {p.section}: {p.text[:80]}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="silkqa",
        description="Question answering over policy documents with exact-span citations. "
        "Configuration comes from SILKQA_* environment variables (see README).",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("index", help="build the index from the corpus directory (SILKQA_CORPUS_DIR)")
    s.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("serve", help="serve the HTTP API (builds the index first when it is missing)")
    s.add_argument("--host", help="bind address (default SILKQA_HOST, 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default SILKQA_PORT, 8000)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("ask", help="answer one question and print its citations")
    s.add_argument("question")
    s.add_argument("--top-k", type=int, default=5, help="passages to consider and list (default 5)")
    s.add_argument("--json", action="store_true", help="print the API response JSON")
    s.set_defaults(func=cmd_ask)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    if args.command != "serve":
        logging.getLogger("silkqa").setLevel(logging.INFO)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
