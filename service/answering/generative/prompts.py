"""Prompt templates, kept as versioned files in ``prompts/`` (package data,
``silkqa.prompts``: ``answer.v1.zh.txt``,
``rewrite.v1.en.txt``, ...): "[system]" and "[user]" start the messages, ``$name``
placeholders are filled in, and lines starting with ``#`` are notes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from silkqa.index.language import BRACKETED_NUMBERS
from silkqa.service.answering.types import Messages

# Installed as plain files, never zipped: the resource is a real directory.
PROMPTS_DIR = Path(str(resources.files("silkqa.prompts")))
_ROLE_LINE = re.compile(r"^\[(system|user|assistant)\]\s*$")


class PromptMissing(FileNotFoundError):
    pass


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    lang: str
    parts: tuple[tuple[str, Template], ...]

    @classmethod
    def load(cls, name: str, version: str, lang: str, directory: Path = PROMPTS_DIR) -> PromptTemplate:
        path = directory / f"{name}.{version}.{'zh' if lang == 'zh' else 'en'}.txt"
        if not path.is_file():
            raise PromptMissing(f"no prompt template {path}")
        parts: list[tuple[str, list[str]]] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            role = _ROLE_LINE.match(line)
            if role:
                parts.append((role.group(1), []))
            elif parts and not line.startswith("#"):
                parts[-1][1].append(line)
        if not parts:
            raise PromptMissing(f"{path} has no [system] or [user] section")
        return cls(name, version, lang, tuple((role, Template("\n".join(lines).strip())) for role, lines in parts))

    def render(self, **values: str) -> Messages:
        # substitute() (not safe_substitute) so a template with a missing value fails loudly.
        return [{"role": role, "content": template.substitute(values)} for role, template in self.parts]


def passage_block(passages: list[tuple[str, str]]) -> str:
    """Numbered passages as the model sees them: ``[n] source`` then the text.
    The text is data; its own bracketed numbers are shown as 〔…〕."""
    blocks = []
    for n, (source, text) in enumerate(passages, start=1):
        shown = BRACKETED_NUMBERS.sub(r"〔\1〕", text.strip())
        blocks.append(f"[{n}] {source}\n{shown}")
    return "\n\n".join(blocks)
