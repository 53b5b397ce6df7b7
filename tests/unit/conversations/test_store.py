"""The conversation store on both databases it supports: a SQLite file, and a
real PostgreSQL server started for the test. The same contract on each."""

from __future__ import annotations

import threading

import pytest

from silkqa.service.conversations.store import SqlConversationStore, database_url
from silkqa.service.conversations.types import (
    CitedQuote,
    ConversationError,
    ConversationFull,
    ConversationOptions,
    Exchange,
    FeedbackIn,
    InvalidFeedback,
    UnknownConversation,
    UnknownTurn,
)
from tests.support.paths import read_corpus
from tests.support.postgres import postgres_bin, postgres_server

PLAN = read_corpus("eco-cooperation-plan-2017")
TALENT_QUOTE = "构建生态环保合作智力支撑体系，提高智库在战略制定、政策对接、投资咨询服务等方面的参与度。"


def exchange(question: str = "合作规划对智库有什么要求？", abstained: bool = False) -> Exchange:
    start = PLAN.index(TALENT_QUOTE)
    cited = CitedQuote(
        1, "eco-cooperation-plan-2017", "“一带一路”生态环境保护合作规划", "智库", TALENT_QUOTE, start, start + len(TALENT_QUOTE)
    )
    answer = "所提供的文档中没有找到能够回答这个问题的内容。" if abstained else TALENT_QUOTE + "[1]"
    response = {"answer": answer, "abstained": abstained, "citations": [], "extra": {"nested": ["kept", 1.5]}}
    return Exchange(question, answer, abstained, () if abstained else (cited,), "20260101T000000-abc", response)


@pytest.fixture(scope="module")
def postgres_url():
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'conversations.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = SqlConversationStore.open(ConversationOptions(url=url, max_turns=3))
    yield opened
    if request.param == "postgresql":  # one server for the module: start each test on empty tables
        with opened.engine.begin() as db:
            db.exec_driver_sql("TRUNCATE feedback, turns, conversations RESTART IDENTITY")
    opened.close()


def test_a_conversation_keeps_its_exchanges_in_order(store):
    info = store.create("alice", "")
    first = store.append("alice", info.conversation_id, exchange())
    second = store.append("alice", info.conversation_id, exchange("那资金方面呢？"))
    assert (first.position, second.position) == (0, 1) and second.turn_id > first.turn_id
    found = store.conversation("alice", info.conversation_id)
    assert found.info.title == "合作规划对智库有什么要求？", "titled by its first question"
    assert found.info.turn_count == 2
    assert [t.exchange for t in found.turns] == [exchange(), exchange("那资金方面呢？")], "stored as given, JSON and all"
    assert found.turns[0].created_at.tzinfo is not None


def test_each_owner_sees_only_their_own(store):
    mine = store.create("alice", "Talent")
    store.create("bob", "Bob's")
    assert [c.title for c in store.conversations("alice", 10)] == ["Talent"]
    for call in (
        lambda: store.conversation("bob", mine.conversation_id),
        lambda: store.rename("bob", mine.conversation_id, "taken"),
        lambda: store.delete("bob", mine.conversation_id),
        lambda: store.append("bob", mine.conversation_id, exchange()),
    ):
        with pytest.raises(UnknownConversation):
            call()
    turn = store.append("alice", mine.conversation_id, exchange())
    with pytest.raises(UnknownTurn):
        store.give_feedback("bob", turn.turn_id, FeedbackIn("up", (), None))
    assert store.conversation("alice", mine.conversation_id).info.title == "Talent"


def test_rename_list_order_and_delete(store):
    a = store.create("alice", "")
    b = store.create("alice", "")
    store.append("alice", a.conversation_id, exchange())  # a is now the most recently used
    assert [c.conversation_id for c in store.conversations("alice", 10)] == [a.conversation_id, b.conversation_id]
    assert store.rename("alice", b.conversation_id, "  人才  ").title == "人才"
    assert store.conversations("alice", 1)[0].conversation_id == b.conversation_id
    store.delete("alice", a.conversation_id)
    with pytest.raises(UnknownConversation):
        store.conversation("alice", a.conversation_id)
    assert [c.conversation_id for c in store.conversations("alice", 10)] == [b.conversation_id]


def test_a_conversation_holds_at_most_max_turns(store):
    info = store.create("alice", "")
    for _ in range(3):
        store.append("alice", info.conversation_id, exchange())
    with pytest.raises(ConversationFull):
        store.append("alice", info.conversation_id, exchange())


def test_concurrent_appends_each_get_their_own_position(store):
    info = store.create("alice", "")
    store.max_turns = 50
    errors = []

    def append():
        try:
            store.append("alice", info.conversation_id, exchange())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=append) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [t.position for t in store.conversation("alice", info.conversation_id).turns] == list(range(8))


def test_feedback_is_one_per_owner_and_answer_and_outlives_the_conversation(store):
    info = store.create("alice", "")
    turn = store.append("alice", info.conversation_id, exchange())
    first = store.give_feedback("alice", turn.turn_id, FeedbackIn("up", (), None))
    again = store.give_feedback("alice", turn.turn_id, FeedbackIn("down", (1,), "  第二句不对  "))
    assert again.feedback_id == first.feedback_id, "given again, it replaces the earlier feedback"
    assert again.given == FeedbackIn("down", (1,), "第二句不对")
    assert again.exchange == exchange() and again.exchange.build_id == "20260101T000000-abc"
    assert store.conversation("alice", info.conversation_id).turns[0].feedback == again.given

    store.delete("alice", info.conversation_id)
    [kept] = store.feedback(10)
    assert kept.feedback_id == first.feedback_id and kept.turn_id is None
    assert kept.exchange.citations[0].quote == TALENT_QUOTE


def test_feedback_must_say_something_about_citations_the_answer_has(store):
    info = store.create("alice", "")
    turn = store.append("alice", info.conversation_id, exchange())
    with pytest.raises(InvalidFeedback, match="needs a rating"):
        store.give_feedback("alice", turn.turn_id, FeedbackIn(None, (), "   "))
    with pytest.raises(InvalidFeedback, match=r"no citation \[2\]"):
        store.give_feedback("alice", turn.turn_id, FeedbackIn(None, (1, 2), None))
    with pytest.raises(UnknownTurn):
        store.give_feedback("alice", turn.turn_id + 100, FeedbackIn("up", (), None))
    assert store.feedback(10) == []


def test_a_database_that_cannot_be_used_is_refused_without_its_password():
    with pytest.raises(ConversationError, match="not a database URL"):
        database_url("no such thing")
    with pytest.raises(ConversationError) as refused:
        SqlConversationStore.open(ConversationOptions(url="postgresql://silkqa:s3cret@127.0.0.1:1/none", max_turns=3))
    assert "s3cret" not in str(refused.value) and "127.0.0.1:1" in str(refused.value)
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
