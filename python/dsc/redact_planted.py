"""A planted set for the redaction stage: real files with realistic fake secrets and personal
data inserted where code keeps them (config files, test fixtures, string literals, comments),
and allow-list cases that must stay. ``tests/test_redact.py`` asserts recall and precision on
it; ``benchmarks/bench_redact.py`` compares detectors on it.

Every secret is random (seeded), in its published format, so no live credential is involved.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


@dataclass(frozen=True)
class Planted:
    """One inserted item: its kind (``email``, ``ip_address``, ``key``, ``password``, or
    ``allowed`` for what must stay), its format and text of it that must go (or stay): the
    value, or a private key's first body line (a JSON string holds the key escaped)."""

    kind: str
    format: str
    value: str


@dataclass(frozen=True)
class PlantedFile:
    path: str
    original: str
    text: str
    planted: tuple[Planted, ...]


def _pick(rng: random.Random, chars: str, n: int) -> str:
    return "".join(rng.choice(chars) for _ in range(n))


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _pem(rng: random.Random) -> str:
    lines = [_pick(rng, B64, 64) for _ in range(rng.randint(4, 12))]
    label = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def _public_ip(rng: random.Random) -> str:
    a = rng.choice([3, 8, 13, 23, 34, 35, 44, 52, 54, 64, 81, 104, 151, 185, 212])
    return f"{a}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _email(rng: random.Random) -> str:
    first = rng.choice(["jane", "omar", "li", "priya", "sven", "ana", "kofi", "mei"])
    last = rng.choice(["doe", "haddad", "wei", "raman", "berg", "silva", "mensah", "tan"])
    domain = rng.choice(["acme-corp.io", "gmail.com", "fastmail.fm", "uni-bonn.de", "corp.co.uk"])
    return f"{first}.{last}{rng.randint(1, 99)}@{domain}"


def _password(rng: random.Random) -> str:
    word = rng.choice(["Summer", "dragon", "Monkey", "letmein", "Trustno", "Sunshine"])
    return f"{word}{rng.randint(10, 9999)}{rng.choice('!#$%&*?')}{_pick(rng, ALNUM, 3)}"


# The secret formats: name -> (kind, value maker).
FORMATS: dict[str, tuple[str, Callable[[random.Random], str]]] = {
    "aws_access_key_id": (
        "key",
        lambda r: "AKIA" + _pick(r, string.ascii_uppercase + "234567", 16),
    ),
    "aws_secret": ("key", lambda r: _pick(r, B64, 40)),
    "gcp_api_key": ("key", lambda r: "AIza" + _pick(r, ALNUM + "_-", 35)),
    "gcp_service_account": ("key", _pem),
    "azure_account_key": ("key", lambda r: base64.b64encode(r.randbytes(64)).decode()),
    "github_token": ("key", lambda r: r.choice(["ghp_", "gho_", "ghs_"]) + _pick(r, ALNUM, 36)),
    "github_pat": ("key", lambda r: f"github_pat_{_pick(r, ALNUM, 22)}_{_pick(r, ALNUM, 59)}"),
    "gitlab_token": ("key", lambda r: "glpat-" + _pick(r, ALNUM + "_-", 20)),
    "slack_token": (
        "key",
        lambda r: (
            f"xoxb-{r.randint(10**11, 10**12)}-{r.randint(10**11, 10**12)}-" + _pick(r, ALNUM, 24)
        ),
    ),
    "slack_webhook": (
        "key",
        lambda r: (
            "https://hooks.slack.com/services/T"
            + _pick(r, string.ascii_uppercase + string.digits, 8)
            + "/B"
            + _pick(r, string.ascii_uppercase + string.digits, 10)
            + "/"
            + _pick(r, ALNUM, 24)
        ),
    ),
    "stripe_key": ("key", lambda r: r.choice(["sk_live_", "rk_live_"]) + _pick(r, ALNUM, 24)),
    "jwt": (
        "key",
        lambda r: (
            _b64url({"alg": "HS256", "typ": "JWT"})
            + "."
            + _b64url({"sub": str(r.randint(1, 10**9)), "name": "Jane Doe", "iat": 1516239022})
            + "."
            + _pick(r, ALNUM + "_-", 43)
        ),
    ),
    "private_key": ("key", _pem),
    "api_key_assigned": ("key", lambda r: _pick(r, ALNUM, 32)),
    "password": ("password", _password),
    "email": ("email", _email),
    "ipv4": ("ip_address", _public_ip),
    "ipv6": (
        "ip_address",
        lambda r: "2a03:" + ":".join(f"{r.randint(1, 0xFFFF):x}" for _ in range(7)),
    ),
}


def _line(fmt: str, value: str, style: str, rng: random.Random) -> str:
    """``value`` as a line of a file of ``style`` (``py``, ``yaml``, ``json``, ``env``,
    ``js``), written where such code keeps it."""
    name = {
        "aws_secret": "aws_secret_access_key",
        "api_key_assigned": rng.choice(["api_key", "API_KEY", "stripe_api_key", "apiKey"]),
        "password": rng.choice(["password", "DB_PASSWORD", "admin_pwd", "smtp_password"]),
        "azure_account_key": "connection_string",
    }.get(fmt, rng.choice(["token", "value", "credential", "auth"]))
    if fmt == "azure_account_key":
        value = (
            "DefaultEndpointsProtocol=https;AccountName=prodstore;"
            f"AccountKey={value};EndpointSuffix=core.windows.net"
        )
    if fmt == "gcp_service_account":
        blob = {"type": "service_account", "private_key": value + "\n", "client_id": "1"}
        return json.dumps(blob) if style == "json" else f"SERVICE_ACCOUNT = {json.dumps(blob)!r}"
    if fmt in ("email", "ipv4", "ipv6"):
        comment = "#" if style in ("py", "yaml", "env") else "//"
        return (
            rng.choice([f"{comment} maintainer: {value}", f"{comment} reported by {value} in prod"])
            if style != "json"
            else f'"contact": "{value}",'
        )
    if fmt == "private_key":
        return f'PRIVATE_KEY = """{value}"""' if style == "py" else f"key: |\n  {value}"
    return {
        "py": f'{name} = "{value}"',
        "yaml": f"{name}: {value}",
        "json": f'"{name}": "{value}",',
        "env": f"{name.upper()}={value}",
        "js": f"const {name} = '{value}';",
    }[style]


# Allow-list cases: must not be redacted.
ALLOWED = (
    "# see https://docs.example.com or write to someone@example.org",
    "# Signed-off-by: bot <noreply@github.com>",
    'DEFAULT_HOST = "127.0.0.1"',
    'SERVER = "192.168.10.20"  # the lab router',
    'DOC_ADDR = "203.0.113.42"',
    'LISTEN = "0.0.0.0"',
    '__version__ = "2.31.0.1"',
    "requires = ['pkg==1.2.3.4']",
    'password = os.environ["DB_PASSWORD"]',
    'token = "${GITHUB_TOKEN}"',
    'API_KEY = "your-api-key-here"',
    "LOOPBACK6 = '::1'",
)

STYLES = {".py": "py", ".yml": "yaml", ".yaml": "yaml", ".json": "json", ".js": "js"}


def style_of(path: str) -> str:
    return STYLES.get(Path(path).suffix, "env")


def plant(path: str, original: str, rng: random.Random, n: int = 3) -> PlantedFile:
    """``original`` with ``n`` fake secrets and one allow-list case inserted at line starts
    (a JSON file gets its items appended as a fixture instead, so it stays JSON-like)."""
    lines = original.splitlines(keepends=True) or [""]
    planted: list[Planted] = []
    for _ in range(n):
        fmt = rng.choice(sorted(FORMATS))
        kind, make = FORMATS[fmt]
        value = make(rng)
        at = rng.randint(0, len(lines))
        lines.insert(at, _line(fmt, value, style_of(path), rng) + "\n")
        marker = value.split("\n")[1] if value.startswith("-----BEGIN") else value
        planted.append(Planted(kind, fmt, marker))
    if style_of(path) == "py":
        allowed = rng.choice(ALLOWED)
        lines.insert(rng.randint(0, len(lines)), allowed + "\n")
        planted.append(Planted("allowed", "allowed", allowed))
    return PlantedFile(path, original, "".join(lines), tuple(planted))


def planted_set(files: Sequence[Path], root: Path, seed: int = 17) -> list[PlantedFile]:
    """Every readable text file of ``files`` (paths shown relative to ``root``), planted."""
    rng = random.Random(seed)
    out = []
    for f in files:
        try:
            text = f.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        out.append(plant(str(f.relative_to(root)), text, rng))
    return out
