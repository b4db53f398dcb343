"""The file filters written in plain, obvious Python.

Slow on purpose: this is the oracle the property tests compare the Rust kernels against, and
the pure-Python anchor of ``benchmarks/bench_filters.py``. It follows the same definitions
as dsc-core (see ``stats.rs``, ``html.rs`` and ``file_filter.rs``).
"""

from __future__ import annotations

import re
import unicodedata

from dsc.filters import FilterConfig

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TAG_NAME = re.compile(r"[A-Za-z0-9]*")
_SPACE = " \t\n\r\x0b\x0c"


def text_stats(text: str) -> dict[str, float]:
    """The statistics of ``dsc.filters.text_stats`` for one text."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # a final terminator does not start a line
    n = len(text)
    alpha = sum(unicodedata.category(c).startswith("L") for c in text)
    alnum = sum(unicodedata.category(c)[0] in "LN" for c in text)
    return {
        "n_bytes": len(text.encode()),
        "n_chars": n,
        "n_lines": len(lines),
        "max_line_len": max((len(x) for x in lines), default=0),
        "avg_line_len": sum(len(x) for x in lines) / len(lines) if lines else 0.0,
        "alpha_frac": alpha / n if n else 0.0,
        "alnum_frac": alnum / n if n else 0.0,
    }


def visible_text_chars(html: str) -> int:
    """Visible characters of HTML, as ``dsc.filters.html_visible_chars``."""
    i, visible, in_space = 0, 0, False
    while i < len(html):
        if html[i] == "<":
            end = _skip_markup(html, i)
            if end is not None:
                i, in_space = end, False
                continue
        if html[i] in _SPACE:
            visible += not in_space
            in_space = True
        else:
            visible += 1
            in_space = False
        i += 1
    return visible


def _skip_markup(html: str, i: int) -> int | None:
    if html.startswith("<!--", i):
        j = html.find("-->", i + 4)
        return len(html) if j < 0 else j + 3
    nxt = html[i + 1 : i + 2]
    if not nxt or not ((nxt.isascii() and nxt.isalpha()) or nxt in "/!?"):
        return None
    close = html.find(">", i + 1)
    tag_end = len(html) if close < 0 else close + 1
    name = _TAG_NAME.match(html, i + 1)
    tag = name.group().lower() if name else ""
    if tag in ("script", "style"):
        k = html.lower().find("</" + tag, tag_end)
        if k < 0:
            return len(html)
        j = html.find(">", k)
        return len(html) if j < 0 else j + 1
    return tag_end


def _looks_binary(raw: bytes, cfg: FilterConfig) -> bool:
    head = raw[: cfg.binary.probe_bytes]
    if b"\0" in head:
        return True
    control = sum(b < 0x20 and b not in b"\t\n\r\x0b\x0c\x1b" for b in head)
    return bool(head) and control / len(head) > cfg.binary.max_control_frac


def _is_generated(text: str, cfg: FilterConfig) -> bool:
    if cfg.generated_scan_lines == 0:
        return False
    head = "\n".join(text.split("\n")[: cfg.generated_scan_lines]).lower()
    return any(marker.lower() in head for marker in cfg.generated_markers)


def filter_reason(raw: bytes, lang: str | None, cfg: FilterConfig) -> str | None:
    """The first rule ``raw`` fails, as ``dsc.filters.filter_reason``; None keeps it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8"
    if _looks_binary(raw, cfg):
        return "binary"
    s = text_stats(text)
    checks = [
        ("empty", s["n_chars"] == 0),
        ("generated", _is_generated(text, cfg)),
        ("max_line_length", s["max_line_len"] >= cfg.max_line_len),
        ("avg_line_length", s["avg_line_len"] >= cfg.max_avg_line_len),
        ("alpha_fraction", s["alpha_frac"] < cfg.min_alpha_frac),
    ]
    if lang in cfg.html_languages:
        visible = visible_text_chars(text)
        checks.append(("html_visible_fraction", visible < cfg.html_min_visible_frac * s["n_chars"]))
        checks.append(("html_visible_chars", visible < cfg.html_min_visible_chars))
    if lang in cfg.data_languages:
        checks.append(("data_too_short", s["n_chars"] < cfg.data_min_chars))
        checks.append(("data_too_long", s["n_chars"] > cfg.data_max_chars))
    return next((name for name, failed in checks if failed), None)
