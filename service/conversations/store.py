"""Conversations and feedback in a SQL database, through SQLAlchemy: a SQLite
file in the data directory by default, PostgreSQL when ``SILKQA_DATABASE_URL``
names one (any database SQLAlchemy speaks would do; these two are tested).

Three tables: ``conversations`` (owner, title), ``turns`` (one recorded
exchange each, in order) and ``feedback`` (one per owner and exchange, with its
own copy of the exchange, so feedback outlives a deleted conversation). The
schema is created when the store opens; every change is one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from silkqa.service.conversations.types import (
    CitedQuote,
    Conversation,
    ConversationError,
    ConversationFull,
    ConversationInfo,
    ConversationOptions,
    Exchange,
    Feedback,
    FeedbackIn,
    InvalidFeedback,
    StoredTurn,
    UnknownConversation,
    UnknownTurn,
)

T = TypeVar("T")

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_WHEN = sa.DateTime(timezone=True)

METADATA = sa.MetaData()
CONVERSATIONS = sa.Table(
    "conversations",
    METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", _WHEN, nullable=False),
    sa.Column("updated_at", _WHEN, nullable=False),
)
TURNS = sa.Table(
    "turns",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(32), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("abstained", sa.Boolean, nullable=False),
    sa.Column("citations", _JSON, nullable=False),
    sa.Column("build_id", sa.String(100), nullable=False),
    sa.Column("response", _JSON, nullable=False),
    sa.Column("created_at", _WHEN, nullable=False),
    sa.UniqueConstraint("conversation_id", "position"),
)
FEEDBACK = sa.Table(
    "feedback",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("turn_id", sa.Integer, sa.ForeignKey("turns.id", ondelete="SET NULL"), nullable=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("abstained", sa.Boolean, nullable=False),
    sa.Column("citations", _JSON, nullable=False),
    sa.Column("build_id", sa.String(100), nullable=False),
    sa.Column("response", _JSON, nullable=False),
    sa.Column("rating", sa.String(8), nullable=True),
    sa.Column("wrong_citations", _JSON, nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("created_at", _WHEN, nullable=False),
    sa.Column("updated_at", _WHEN, nullable=False),
    sa.UniqueConstraint("owner", "turn_id"),
)


def database_url(url: str) -> URL:
    """``url`` as SQLAlchemy opens it: a bare ``postgresql://`` (or
    ``postgres://``) goes through psycopg 3, the driver installed with silkqa."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConversationError(f"SILKQA_DATABASE_URL is not a database URL: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # the ON DELETE rules above; SQLite leaves them off by default
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer
    cursor.execute("PRAGMA busy_timeout=5000")  # writers wait for each other instead of failing
    cursor.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    # SQLite keeps no time zone: what went in as UTC comes back naive.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _citations(rows: list[dict[str, Any]]) -> tuple[CitedQuote, ...]:
    return tuple(CitedQuote(**row) for row in rows)


def _exchange(row: sa.Row[Any]) -> Exchange:
    m = row._mapping
    return Exchange(
        question=m["question"],
        answer=m["answer"],
        abstained=m["abstained"],
        citations=_citations(m["citations"]),
        build_id=m["build_id"],
        response=m["response"],
    )


def _exchange_columns(exchange: Exchange) -> dict[str, Any]:
    return {
        "question": exchange.question,
        "answer": exchange.answer,
        "abstained": exchange.abstained,
        "citations": [asdict(c) for c in exchange.citations],
        "build_id": exchange.build_id,
        "response": exchange.response,
    }


def _given(row: sa.Row[Any]) -> FeedbackIn:
    m = row._mapping
    return FeedbackIn(rating=m["rating"], wrong_citations=tuple(m["wrong_citations"]), comment=m["comment"])


def _feedback(row: sa.Row[Any]) -> Feedback:
    m = row._mapping
    return Feedback(
        feedback_id=m["id"],
        owner=m["owner"],
        turn_id=m["turn_id"],
        exchange=_exchange(row),
        given=_given(row),
        created_at=_utc(m["created_at"]),
        updated_at=_utc(m["updated_at"]),
    )


def _title(question: str) -> str:
    """A new conversation's title: its first question, on one line, cut at 80 characters."""
    line = " ".join(question.split())
    return line if len(line) <= 80 else line[:79] + "…"


class SqlConversationStore:
    def __init__(self, engine: Engine, max_turns: int):
        self.engine = engine
        self.max_turns = max_turns

    @classmethod
    def open(cls, options: ConversationOptions) -> SqlConversationStore:
        """Connects and creates the tables that are missing; raises
        ConversationError (without the password) when the database cannot be used."""
        url = database_url(options.url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = sa.create_engine(url, pool_pre_ping=True)
            if url.get_backend_name() == "sqlite":
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            METADATA.create_all(engine)
        except (SQLAlchemyError, ImportError) as exc:
            where = url.render_as_string(hide_password=True)
            raise ConversationError(f"cannot open the conversation database {where}: {exc}") from None
        return cls(engine, options.max_turns)

    def close(self) -> None:
        self.engine.dispose()

    def _retrying(self, change: Callable[[Connection], T]) -> T:
        """``change`` in one transaction, tried again when a concurrent one took
        the same unique slot (the next position, the owner's feedback row)."""
        for attempt in range(3):
            try:
                with self.engine.begin() as db:
                    return change(db)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # --- conversations -----------------------------------------------------------

    @staticmethod
    def _listing(owner: str) -> sa.Select[Any]:
        """The owner's conversations, each with its number of exchanges."""
        turns = sa.select(sa.func.count()).where(TURNS.c.conversation_id == CONVERSATIONS.c.id).scalar_subquery()
        return sa.select(CONVERSATIONS, turns.label("turn_count")).where(CONVERSATIONS.c.owner == owner)

    def _info(self, db: Connection, owner: str, conversation_id: str) -> ConversationInfo:
        row = db.execute(self._listing(owner).where(CONVERSATIONS.c.id == conversation_id)).first()
        if row is None:
            raise UnknownConversation(f"no conversation {conversation_id!r}")
        return self._info_of(row)

    @staticmethod
    def _info_of(row: sa.Row[Any]) -> ConversationInfo:
        m = row._mapping
        return ConversationInfo(
            conversation_id=m["id"],
            owner=m["owner"],
            title=m["title"],
            created_at=_utc(m["created_at"]),
            updated_at=_utc(m["updated_at"]),
            turn_count=m["turn_count"],
        )

    def create(self, owner: str, title: str) -> ConversationInfo:
        now = _now()
        conversation_id = uuid.uuid4().hex
        with self.engine.begin() as db:
            db.execute(
                CONVERSATIONS.insert().values(
                    id=conversation_id, owner=owner, title=title.strip(), created_at=now, updated_at=now
                )
            )
            return self._info(db, owner, conversation_id)

    def conversations(self, owner: str, limit: int) -> list[ConversationInfo]:
        query = self._listing(owner).order_by(CONVERSATIONS.c.updated_at.desc(), CONVERSATIONS.c.id).limit(limit)
        with self.engine.connect() as db:
            return [self._info_of(row) for row in db.execute(query)]

    def conversation(self, owner: str, conversation_id: str) -> Conversation:
        with self.engine.connect() as db:
            info = self._info(db, owner, conversation_id)
            mine = FEEDBACK.alias("mine")
            rows = db.execute(
                sa.select(TURNS, mine.c.rating, mine.c.wrong_citations, mine.c.comment, mine.c.id.label("feedback_id"))
                .select_from(TURNS.outerjoin(mine, (mine.c.turn_id == TURNS.c.id) & (mine.c.owner == owner)))
                .where(TURNS.c.conversation_id == conversation_id)
                .order_by(TURNS.c.position)
            ).all()
        turns = tuple(
            StoredTurn(
                turn_id=row.id,
                conversation_id=conversation_id,
                position=row.position,
                exchange=_exchange(row),
                created_at=_utc(row.created_at),
                feedback=_given(row) if row.feedback_id is not None else None,
            )
            for row in rows
        )
        return Conversation(info, turns)

    def rename(self, owner: str, conversation_id: str, title: str) -> ConversationInfo:
        with self.engine.begin() as db:
            done = db.execute(
                CONVERSATIONS.update()
                .where(CONVERSATIONS.c.id == conversation_id, CONVERSATIONS.c.owner == owner)
                .values(title=title.strip(), updated_at=_now())
            )
            if done.rowcount == 0:
                raise UnknownConversation(f"no conversation {conversation_id!r}")
            return self._info(db, owner, conversation_id)

    def delete(self, owner: str, conversation_id: str) -> None:
        with self.engine.begin() as db:
            done = db.execute(CONVERSATIONS.delete().where(CONVERSATIONS.c.id == conversation_id, CONVERSATIONS.c.owner == owner))
            if done.rowcount == 0:
                raise UnknownConversation(f"no conversation {conversation_id!r}")

    def append(self, owner: str, conversation_id: str, exchange: Exchange) -> StoredTurn:
        def change(db: Connection) -> StoredTurn:
            now = _now()
            # Writing the conversation's row first takes its lock (SQLite: the
            # database's), so appends to one conversation queue here instead of
            # racing for the same next position.
            touched = db.execute(
                CONVERSATIONS.update()
                .where(CONVERSATIONS.c.id == conversation_id, CONVERSATIONS.c.owner == owner)
                .values(updated_at=now)
            )
            if touched.rowcount == 0:
                raise UnknownConversation(f"no conversation {conversation_id!r}")
            info = self._info(db, owner, conversation_id)
            if info.turn_count >= self.max_turns:
                raise ConversationFull(f"conversation {conversation_id!r} holds {info.turn_count} exchanges, the most it may")
            position = db.execute(
                sa.select(sa.func.coalesce(sa.func.max(TURNS.c.position) + 1, 0)).where(
                    TURNS.c.conversation_id == conversation_id
                )
            ).scalar_one()
            turn_id = db.execute(
                TURNS.insert()
                .values(conversation_id=conversation_id, position=position, created_at=now, **_exchange_columns(exchange))
                .returning(TURNS.c.id)
            ).scalar_one()
            if not info.title:
                db.execute(
                    CONVERSATIONS.update().where(CONVERSATIONS.c.id == conversation_id).values(title=_title(exchange.question))
                )
            return StoredTurn(turn_id, conversation_id, position, exchange, now, None)

        return self._retrying(change)

    # --- feedback ----------------------------------------------------------------

    def give_feedback(self, owner: str, turn_id: int, given: FeedbackIn) -> Feedback:
        if given.rating is None and not given.wrong_citations and not (given.comment or "").strip():
            raise InvalidFeedback("feedback needs a rating, a flagged citation or a comment")

        def change(db: Connection) -> Feedback:
            turn = db.execute(
                sa.select(TURNS)
                .join(CONVERSATIONS, CONVERSATIONS.c.id == TURNS.c.conversation_id)
                .where(TURNS.c.id == turn_id, CONVERSATIONS.c.owner == owner)
            ).first()
            if turn is None:
                raise UnknownTurn(f"no answer {turn_id} in your conversations")
            exchange = _exchange(turn)
            markers = {c.marker for c in exchange.citations}
            if unknown := sorted(set(given.wrong_citations) - markers):
                raise InvalidFeedback(f"wrong_citations: the answer has no citation {unknown} (it has {sorted(markers)})")
            now = _now()
            values = {
                "rating": given.rating,
                "wrong_citations": sorted(set(given.wrong_citations)),
                "comment": (given.comment or "").strip() or None,
                "updated_at": now,
            }
            existing = db.execute(
                sa.select(FEEDBACK.c.id).where(FEEDBACK.c.owner == owner, FEEDBACK.c.turn_id == turn_id)
            ).scalar_one_or_none()
            if existing is None:
                existing = db.execute(
                    FEEDBACK.insert()
                    .values(owner=owner, turn_id=turn_id, created_at=now, **_exchange_columns(exchange), **values)
                    .returning(FEEDBACK.c.id)
                ).scalar_one()
            else:
                db.execute(FEEDBACK.update().where(FEEDBACK.c.id == existing).values(**values))
            return _feedback(db.execute(sa.select(FEEDBACK).where(FEEDBACK.c.id == existing)).one())

        return self._retrying(change)

    def feedback(self, limit: int, offset: int = 0) -> list[Feedback]:
        query = sa.select(FEEDBACK).order_by(FEEDBACK.c.updated_at.desc(), FEEDBACK.c.id.desc()).limit(limit).offset(offset)
        with self.engine.connect() as db:
            return [_feedback(row) for row in db.execute(query)]
