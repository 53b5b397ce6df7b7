"""API keys on their own: what each request needs (the route table), parsing inline keys and hashed key files, keygen."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from silkqa.service import cli
from silkqa.service.api.policy import Role, policy
from silkqa.service.api.security import KeyRing, digest, keys_file_line, parse_inline_keys, parse_keys_file

READER_KEY = "sq_reader_key_for_tests_000001"
KEYS = SecretStr(f"rita:reader:{READER_KEY},ed:editor:sq_editor_key_for_tests_000002")


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/healthz", None),
        ("GET", "/readyz", None),
        ("GET", "/metrics", None),
        ("GET", "/openapi.json", None),
        ("GET", "/", None),
        ("GET", "/ui/sse.js", None),
        ("GET", "/v1/documents", Role.READER),
        ("GET", "/v1/documents/opinion-2022", Role.READER),
        ("GET", "/v1/models", Role.READER),
        ("POST", "/v1/ask", Role.READER),
        ("POST", "/v1/search", Role.READER),
        ("POST", "/v1/chat/completions", Role.READER),
        ("POST", "/v1/documents", Role.EDITOR),
        ("PUT", "/v1/documents/opinion-2022", Role.EDITOR),
        ("DELETE", "/v1/documents/opinion-2022", Role.EDITOR),
        ("POST", "/healthz", Role.EDITOR),  # a write to a probe path is not public
        ("POST", "/v1/some-route-added-later", Role.EDITOR),  # new writes are protected by default
        ("PATCH", "/v1/ask", Role.EDITOR),
    ],
)
def test_role_each_request_needs(method, path, role):
    assert policy(method, path).role == role


def test_inline_keys_and_hashed_keys_file_authenticate_to_their_names_and_roles():
    file_line = keys_file_line("ci-bot", Role.EDITOR, "sq_file_key_that_is_long_enough")
    assert "sq_file_key" not in file_line and file_line.startswith("ci-bot editor sha256:")
    keys = parse_inline_keys(KEYS.get_secret_value()) + parse_keys_file(f"# team keys\n\n{file_line}  # CI\n", "keys.txt")
    ring = KeyRing(keys)
    assert [(k.name, k.role) for k in ring.keys] == [("rita", Role.READER), ("ed", Role.EDITOR), ("ci-bot", Role.EDITOR)]
    assert ring.authenticate(READER_KEY).role is Role.READER
    assert ring.authenticate("sq_file_key_that_is_long_enough").name == "ci-bot"
    assert ring.authenticate(READER_KEY + "x") is None
    assert ring.authenticate("") is None
    assert all(k.sha256 != READER_KEY.encode() for k in ring.keys)  # only digests are kept
    assert ring.keys[0].sha256 == digest(READER_KEY)


def test_keygen_prints_a_key_whose_hashed_line_authenticates_it(capsys):
    assert cli.main(["keygen", "ci-bot", "editor"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    key, file_line = lines[1], lines[3]
    assert key.startswith("sq_") and len(key) >= 40 and key not in file_line
    (stored,) = parse_keys_file(file_line, "out")
    assert KeyRing([stored]).authenticate(key).name == "ci-bot" and stored.role is Role.EDITOR
    assert cli.main(["keygen", "bad name", "reader"]) == 2
