"""Who may call the API: bearer API keys with one of two roles (what each route
needs is in the route table, ``service.api.policy``).

Keys come from ``SILKQA_API_KEYS`` (``name:role:key`` entries) and
``SILKQA_API_KEYS_FILE`` (``name role sha256:<hex>`` lines, so keys at rest are
hashed). In memory only SHA-256 digests are kept, and a presented key is compared
with every stored digest in constant time. API keys are long random strings, not
passwords, so a fast hash loses nothing to brute force.

With no keys configured the API is open (a laptop's ``make run``); start-up says
so loudly."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import Headers

from silkqa.service.api.policy import Role
from silkqa.service.settings import Settings

log = logging.getLogger("silkqa.security")

MIN_KEY_CHARS = 16
KEY_PREFIX = "sq_"


@dataclass(frozen=True)
class Principal:
    """Who made a request: a key's name (never the key) and its role."""

    name: str
    role: Role


# Everyone is an editor when the API is open.
ANONYMOUS = Principal("anonymous", Role.EDITOR)


class KeyConfigError(ValueError):
    """The configured keys cannot be used; the service refuses to start."""


# --- keys -----------------------------------------------------------------------


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def keys_file_line(name: str, role: Role, key: str) -> str:
    return f"{name} {role.name.lower()} sha256:{digest(key).hex()}"


@dataclass(frozen=True)
class StoredKey:
    name: str
    role: Role
    sha256: bytes


_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


def check_key_name(name: str, where: str) -> str:
    if not _NAME.fullmatch(name):
        raise KeyConfigError(f"{where}: a key name is 1-64 letters, digits or . _ @ -, not {name!r}")
    return name


def _role(text: str, where: str) -> Role:
    try:
        return Role[text.strip().upper()]
    except KeyError:
        raise KeyConfigError(f"{where}: role must be 'reader' or 'editor', not {text.strip()!r}") from None


def parse_inline_keys(text: str) -> list[StoredKey]:
    """``name:role:key`` entries separated by commas (SILKQA_API_KEYS)."""
    keys = []
    for n, entry in enumerate(e.strip() for e in text.split(",") if e.strip()):
        where = f"SILKQA_API_KEYS entry {n + 1}"
        parts = entry.split(":", 2)
        if len(parts) != 3:
            raise KeyConfigError(f"{where}: expected name:role:key")
        name, role, key = check_key_name(parts[0].strip(), where), _role(parts[1], where), parts[2].strip()
        if len(key) < MIN_KEY_CHARS:
            raise KeyConfigError(f"{where} ({name}): a key needs at least {MIN_KEY_CHARS} characters")
        keys.append(StoredKey(name, role, digest(key)))
    return keys


def parse_keys_file(text: str, source: str) -> list[StoredKey]:
    """``name role sha256:<64 hex>`` lines; blank lines and ``#`` comments are skipped."""
    keys = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source} line {lineno}"
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("sha256:"):
            raise KeyConfigError(f"{where}: expected 'name role sha256:<hex>' (print one with `silkqa keygen`)")
        try:
            hashed = bytes.fromhex(parts[2].removeprefix("sha256:"))
        except ValueError:
            hashed = b""
        if len(hashed) != 32:
            raise KeyConfigError(f"{where}: the sha256 digest must be 64 hex characters")
        keys.append(StoredKey(check_key_name(parts[0], where), _role(parts[1], where), hashed))
    return keys


class KeyRing:
    """The configured keys, by digest. Empty means the API is open."""

    def __init__(self, keys: list[StoredKey]):
        names = [k.name for k in keys]
        if len(set(names)) != len(names):
            raise KeyConfigError("two API keys share a name; names label logs and metrics, so keep them unique")
        if len({k.sha256 for k in keys}) != len(keys):
            raise KeyConfigError("the same API key is configured twice")
        self.keys = tuple(keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        keys = parse_inline_keys(settings.api_keys.get_secret_value()) if settings.api_keys else []
        if settings.api_keys_file is not None:
            path = Path(settings.api_keys_file)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise KeyConfigError(f"cannot read SILKQA_API_KEYS_FILE {path}: {exc.strerror or exc}") from None
            keys += parse_keys_file(text, str(path))
        return cls(keys)

    @property
    def open(self) -> bool:
        return not self.keys

    def authenticate(self, presented: str) -> Principal | None:
        wanted = digest(presented)
        match = None
        # Compare with every key, whichever matches, so timing tells nothing.
        for key in self.keys:
            if hmac.compare_digest(key.sha256, wanted):
                match = key
        return Principal(match.name, match.role) if match else None


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def browser_write_refusal(headers: Headers) -> str | None:
    """Why a write to an open API (no keys: everyone is an editor) looks like
    another site's doing, or None. Any page a user visits can make the browser
    POST a form to 127.0.0.1 (no CORS check applies to that), so a write is
    refused when the browser says it comes from another site or origin, or when
    it reaches us under a domain name a page's DNS could have pointed here (DNS
    rebinding). Clients that are not browsers send no Origin and are let
    through; with API keys none of this applies (a page cannot add the key)."""
    if headers.get("sec-fetch-site", "") in ("cross-site", "same-site"):
        return "the browser reports this request as coming from another site"
    origin = headers.get("origin")
    if origin is None:
        return None
    host = headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        return f"the request comes from the page at {origin}, not from this server ({host})"
    name = urlsplit(f"//{host}").hostname or ""
    if not (_is_ip(name) or name == "localhost" or name.endswith(".localhost")):
        return f"a browser reached this open server by the name {name!r}, which another site's DNS may point here"
    return None


def warn_if_open(keyring: KeyRing) -> None:
    if keyring.open:
        log.warning(
            "AUTHENTICATION IS OFF: no API keys are configured (SILKQA_API_KEYS / SILKQA_API_KEYS_FILE), "
            "so anyone who can reach this server can query AND change the corpus. Fine on a laptop; "
            "configure keys before exposing it."
        )
    else:
        log.info("API keys loaded: %s", ", ".join(f"{k.name} ({k.role.name.lower()})" for k in keyring.keys))
