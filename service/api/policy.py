"""Route policy, in one table: for each kind of request, who may make it, what
limits apply, and what work it does. Authentication, the rate and in-flight
limits, the body limit, the worker slots, the access log and the OpenAPI
document all read ``policy(method, path)``; none keeps a list of its own, so a
new route is covered by the rules the moment it exists.

Rules are tried in order; the first that matches decides. The last one is the
default for everything else: an editor's write, so a mutating route added
later is protected until someone says otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    READER = 1  # ask, search, read documents, chat; keep conversations and give feedback
    EDITOR = 2  # also add, replace and delete documents, and read everyone's feedback


@dataclass(frozen=True)
class RoutePolicy:
    role: Role | None  # the least role needed; None: public
    api: bool  # an API route: counted in the in-flight limit and rate-limited per key
    cpu_bound: bool  # embeds, searches, answers or indexes: waits for a worker slot
    upload: bool  # may carry a document file on top of the ordinary body limit
    question: bool  # the JSON body carries a question, whose length is logged
    # Seconds the client has to send the whole body. It is read before the
    # request counts as in flight or takes a worker slot, so a client that
    # trickles its body holds neither; past the deadline it gets 408.
    body_seconds: float = 10.0


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]  # empty: any method
    paths: frozenset[str] = frozenset()  # exact paths
    prefixes: tuple[str, ...] = ()  # path prefixes
    policy: RoutePolicy = RoutePolicy(Role.EDITOR, api=True, cpu_bound=True, upload=False, question=False)

    def matches(self, method: str, path: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        if not self.paths and not self.prefixes:
            return True
        return path in self.paths or path.startswith(self.prefixes)


READS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The methods the API knows; any other is counted and logged as "OTHER", so a
# client cannot mint a metric series per made-up method.
KNOWN_METHODS = READS | _WRITES
_PUBLIC = RoutePolicy(None, api=False, cpu_bound=False, upload=False, question=False)
_QUESTIONS = frozenset({"/v1/ask", "/v1/search", "/v1/chat/completions"})

RULES: tuple[Rule, ...] = (
    # Probes, metrics, the API description and the web page's files.
    Rule(
        READS,
        frozenset({"/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc"}),
        ("/ui/", "/docs/assets/"),
        _PUBLIC,
    ),
    # Everyone's feedback, with the questions people asked: for editors (who review it for the eval set).
    Rule(
        READS,
        frozenset({"/v1/feedback"}),
        policy=RoutePolicy(Role.EDITOR, api=True, cpu_bound=False, upload=False, question=False),
    ),
    Rule(READS, prefixes=("/v1/",), policy=RoutePolicy(Role.READER, api=True, cpu_bound=False, upload=False, question=False)),
    # POSTs that only read: questions and searches.
    Rule(frozenset({"POST"}), _QUESTIONS, policy=RoutePolicy(Role.READER, api=True, cpu_bound=True, upload=False, question=True)),
    # A reader's own things: their conversations (each key sees only its own) and feedback on their answers.
    Rule(
        _WRITES,
        frozenset({"/v1/conversations", "/v1/feedback"}),
        ("/v1/conversations/",),
        RoutePolicy(Role.READER, api=True, cpu_bound=False, upload=False, question=False),
    ),
    # Adding or replacing a document may carry a file.
    Rule(
        frozenset({"POST", "PUT"}),
        frozenset({"/v1/documents"}),
        ("/v1/documents/",),
        # 20 MB at 200 kB/s: a slow link still gets a whole file in.
        RoutePolicy(Role.EDITOR, api=True, cpu_bound=True, upload=True, question=False, body_seconds=120.0),
    ),
    Rule(_WRITES, prefixes=("/v1/",)),
    # Reads outside the API (an unknown page): a reader's, not counted as API work.
    Rule(READS, policy=RoutePolicy(Role.READER, api=False, cpu_bound=False, upload=False, question=False)),
    Rule(frozenset(), policy=RoutePolicy(Role.EDITOR, api=False, cpu_bound=False, upload=False, question=False)),
)


def policy(method: str, path: str) -> RoutePolicy:
    return next(rule.policy for rule in RULES if rule.matches(method, path))
