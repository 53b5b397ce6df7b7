"""Logging as JSON lines on stderr, for a log shipper: every record with its
time, level, logger and message, plus the access log's request fields."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

# The id of the request being served (set by the access-log middleware): every
# record logged while serving it, a traceback included, carries it.
REQUEST_ID: ContextVar[str | None] = ContextVar("silkqa_request_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and a record's
    ``fields`` (the access log's request id, route, status, ...)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := REQUEST_ID.get()) is not None:
            out["request_id"] = request_id
        out.update(getattr(record, "fields", {}))
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Everything (silkqa, uvicorn) to stderr as JSON lines, for a log shipper."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "jieba"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    for noisy in ("bm25s", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
