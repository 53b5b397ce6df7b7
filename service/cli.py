"""``silkqa`` command line: index, serve, ask, add, remove, eval, keygen,
feedback. Every command goes through the same ``Runtime`` the API serves from."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from silkqa.service.settings import Settings

if TYPE_CHECKING:  # the commands import what they need when they run: `silkqa --help` stays fast
    from silkqa.service.library.editor import LibraryEditor
    from silkqa.service.library.types import UpdateResult


def _settings() -> Settings:
    return Settings()


@contextmanager
def _progress(what: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for long work (none when stderr is not a terminal)."""
    from tqdm import tqdm

    with tqdm(desc=what, unit=unit, disable=None, file=sys.stderr, leave=False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update


def cmd_index(args: argparse.Namespace) -> int:
    from silkqa.index.store.embedding import Embedder
    from silkqa.service.library.lifecycle import build_and_publish, ensure_index

    settings = _settings()
    embedder = Embedder(settings.embedding_model, threads=settings.embed_threads, backend=settings.embed_backend)
    try:
        with _progress("indexing", "documents") as progress:
            built = build_and_publish(settings, embedder, progress) if args.force else ensure_index(settings, embedder, progress)
    except OSError as exc:  # a full disk, say: publishing is atomic, so the live index is untouched
        print(
            f"silkqa index: cannot write the index in {settings.index_dir}: {exc}; the live index is unchanged", file=sys.stderr
        )
        return 1
    m = built.manifest
    print(
        f"index at {settings.index_dir}: {m.document_count} documents, {m.chunk_count} chunks, "
        f"{m.unit_count} dense units, model {m.model['name']} ({m.model['dimension']}-d), built {m.built_at}"
        + (f" in {m.build_seconds}s" if m.build_seconds else "")
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from silkqa.index.store.embedding import ModelUnavailable
    from silkqa.service.answering.types import BackendUnavailable
    from silkqa.service.api.app import create_app
    from silkqa.service.api.logs import configure_json_logging
    from silkqa.service.api.security import KeyConfigError
    from silkqa.service.conversations.types import ConversationError
    from silkqa.service.library.types import IndexUnusable
    from silkqa.service.runtime import Runtime

    settings = _settings()
    configure_json_logging()
    try:
        runtime = Runtime.open(settings)  # builds the index first when it is missing; loads the LLM, if one is configured
        runtime.conversations  # noqa: B018 - opened now, so a database it cannot use stops start-up, not the first request
        app = create_app(runtime=runtime)
    except (IndexUnusable, ModelUnavailable, KeyConfigError, BackendUnavailable, ConversationError) as exc:
        logging.getLogger("silkqa").critical("cannot start: %s", exc)
        return 2
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,  # keep the JSON logging configured above
        access_log=False,  # the app writes its own access log, with request ids
        # Closing an idle connection just as a client reuses it drops that
        # client's request (a soak at 10 req/s lost one in 2,400 with uvicorn's
        # 5 s, the same as httpx's pool expiry). uvicorn has no deadline for a
        # request body: the app reads it within the route's `body_seconds`
        # (service/api/policy.py) before it takes any slot.
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=round(settings.shutdown_grace_seconds),  # SIGTERM: drain in-flight requests first
    )
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from silkqa.service.api.policy import Role
    from silkqa.service.api.security import KeyConfigError, check_key_name, keys_file_line, new_key

    try:
        check_key_name(args.name, "the name")
    except KeyConfigError as exc:
        print(f"silkqa keygen: {exc}", file=sys.stderr)
        return 2
    key = new_key()
    print(f"API key for {args.name} ({args.role}); give it to the client, it is not stored anywhere:")
    print(f"  {key}")
    print("line for SILKQA_API_KEYS_FILE:")
    print(f"  {keys_file_line(args.name, Role[args.role.upper()], key)}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from silkqa.service.answering.types import Question
    from silkqa.service.api.schemas import AskResponse
    from silkqa.service.runtime import Runtime

    answer = Runtime.open(_settings()).pipeline.answer(Question(args.question, top_k=args.top_k))
    response = AskResponse.of(answer)
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


def cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from silkqa.eval import report as reports
    from silkqa.eval.dataset import load_eval_set, validate
    from silkqa.eval.runner import HttpTarget, InProcessTarget, Target, run

    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        print(reports.compare(a, b))
        return 0
    if not args.set:
        print("silkqa eval: give an evaluation set (JSONL) or --compare A.json B.json", file=sys.stderr)
        return 2
    items = load_eval_set(Path(args.set))
    target: Target
    if args.url:
        target = HttpTarget(args.url, api_key=args.api_key)
    else:
        from silkqa.service.runtime import Runtime

        target = InProcessTarget.of(Runtime.open(_settings()))
    problems = validate(items, target.documents())
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    report = reports.build_report(run(items, target, top_k=args.top_k), args.set, args.label or target.name)
    out = Path(args.out) if args.out else Path("eval/reports") / datetime.now().strftime("%Y%m%d-%H%M%S")
    paths = reports.write(report, out)
    print(reports.summary(report))
    print("reports: " + ", ".join(str(p) for p in paths.values()))
    return 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    """Feedback as evaluation set lines (eval/README.md), newest first."""
    from silkqa.service.conversations.export import eval_items
    from silkqa.service.conversations.store import SqlConversationStore
    from silkqa.service.conversations.types import ConversationError, Feedback

    try:
        store = SqlConversationStore.open(_settings().conversation_options())
    except ConversationError as exc:
        print(f"silkqa feedback: {exc}", file=sys.stderr)
        return 2
    try:
        feedback: list[Feedback] = []
        while page := store.feedback(1000, len(feedback)):
            feedback += page
    finally:
        store.close()
    lines = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in eval_items(feedback))
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(lines, encoding="utf-8")
        print(f"{len(feedback)} feedback items written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
    return 0


def _library_change(run: Callable[[LibraryEditor], UpdateResult]) -> int:
    """Open the library, run one update, print what it did."""
    from silkqa.index.ingest.types import DocumentError
    from silkqa.service.library.types import LibraryError
    from silkqa.service.runtime import Runtime

    try:
        result = run(Runtime.open(_settings()).editor)
    except (LibraryError, DocumentError, OSError) as exc:
        print(f"silkqa: {exc}", file=sys.stderr)
        return 2
    print(
        f"{result.action} {result.doc_id}"
        + (f" 《{result.title}》" if result.title and result.action != "deleted" else "")
        + f": {result.chunk_count} chunks, {result.embedded_chunks} embedded; "
        f"{result.document_count} documents in build {result.build_id} ({result.seconds}s)"
    )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from silkqa.service.library.types import NewDocument

    path = Path(args.file)
    limit = _settings().max_upload_bytes
    if path.is_file() and path.stat().st_size > limit:
        print(f"silkqa: {path} is {path.stat().st_size} bytes; the limit is {limit} (SILKQA_MAX_UPLOAD_BYTES)", file=sys.stderr)
        return 2
    fields = ("title", "title_en", "issuer", "date", "doc_number", "kind")
    metadata = {name: getattr(args, name) for name in fields if getattr(args, name)}
    if args.alias:
        metadata["aliases"] = args.alias

    def run(editor: LibraryEditor) -> UpdateResult:
        new = NewDocument(data=path.read_bytes(), filename=path.name, metadata=metadata, doc_id=args.doc_id)
        with _progress("embedding", "units") as progress:
            return editor.replace(args.doc_id, new, progress) if args.replace else editor.add(new, progress)

    if args.replace and not args.doc_id:
        print("silkqa add: --replace needs --doc-id", file=sys.stderr)
        return 2
    return _library_change(run)


def cmd_remove(args: argparse.Namespace) -> int:
    return _library_change(lambda editor: editor.delete(args.doc_id))


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

    s = sub.add_parser("keygen", help="make an API key and the hashed line for SILKQA_API_KEYS_FILE")
    s.add_argument("name", help="who the key is for (shown in logs and metrics)")
    s.add_argument("role", choices=["reader", "editor"], help="reader: ask, search, read; editor: also change documents")
    s.set_defaults(func=cmd_keygen)

    s = sub.add_parser("ask", help="answer one question and print its citations")
    s.add_argument("question")
    s.add_argument("--top-k", type=int, default=5, help="passages to consider and list (default 5)")
    s.add_argument("--json", action="store_true", help="print the API response JSON")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("add", help="add a document (.txt .md .html .pdf .docx) to the library and index it")
    s.add_argument("file")
    s.add_argument("--doc-id", help="id to give it (default: from the file name)")
    s.add_argument("--replace", action="store_true", help="replace the document with this --doc-id")
    for name in ("title", "title-en", "issuer", "date", "doc-number", "kind"):
        s.add_argument(f"--{name}", help=f"document {name.replace('-', ' ')} (default: from its first lines)")
    s.add_argument("--alias", action="append", help="a name users call it by (repeatable)")
    s.set_defaults(func=cmd_add)

    s = sub.add_parser("remove", help="remove a document from the library and the index")
    s.add_argument("doc_id")
    s.set_defaults(func=cmd_remove)
    s = sub.add_parser("feedback", help="feedback people gave on answers")
    feedback = s.add_subparsers(dest="feedback_command", required=True)
    s = feedback.add_parser("export", help="write all feedback as evaluation set lines, for review before adding to the dev set")
    s.add_argument(
        "--jsonl", action="store_true", help="the evaluation set format, JSON lines (the default, and for now the only one)"
    )
    s.add_argument("--out", help="file to write (default: standard output)")
    s.set_defaults(func=cmd_feedback_export)

    s = sub.add_parser("eval", help="run an evaluation set (JSONL) and report retrieval, citation and answer quality")
    s.add_argument("set", nargs="?", help="evaluation set, e.g. eval/dev.jsonl")
    s.add_argument("--url", help="evaluate a running server instead of the in-process pipeline")
    s.add_argument("--api-key", help="bearer key for --url")
    s.add_argument("--top-k", type=int, default=10, help="passages retrieved per question (default 10)")
    s.add_argument("--out", help="report directory (default eval/reports/<timestamp>)")
    s.add_argument("--label", help="name of this run in reports and charts")
    s.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two report.json files")
    s.set_defaults(func=cmd_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command != "serve":
        logging.getLogger("silkqa").setLevel(logging.INFO)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
