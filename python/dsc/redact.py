"""Redaction of personal data and secrets, as StarCoder's PII pipeline does.

The paper's pipeline says nothing of credentials and personal data in public code; a corpus
user expects no live keys in it. Each file's e-mail addresses, IPv4/IPv6 addresses, keys and
tokens (AWS, GCP, Azure, GitHub, GitLab, Slack, Stripe, JWTs, PEM/OpenSSH private-key blocks,
high-entropy values of key-like names) and passwords (``password = "..."``) are replaced by
typed placeholders, ``<EMAIL>``, ``<IP_ADDRESS>``, ``<KEY>`` and ``<PASSWORD>``, the code around
them untouched (``dsc_core::redact``: one regex pass over the file, then the allow-list).

What is nobody's stays: documentation domains (``example.com``/``.org``/``.net``, ``localhost``),
``noreply@`` addresses, loopback, private (RFC 1918), link-local and documentation (RFC 5737,
``2001:db8::/32``) addresses, version strings that look like addresses (``version 1.2.3.4``,
``==1.2.3.4``), placeholders (``${TOKEN}``, ``your-key-here``), and hashes in lock files
(``*.lock``, ``package-lock.json``, ``go.sum``, ...). ``[redact]`` extends the allow-list.

The stage adds the spans redacted per kind (:data:`COUNT_COLUMNS`) and the share of the file's
bytes redacted (``redact_share``); a file over ``max_secret_share`` is mostly secrets (a key
dump) and gets the reason ``mostly_secrets``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dsc._plugin import plugin_expr, to_expr

#: The kinds of what is redacted, in the order of ``dsc_core::redact::PiiKind::ALL``.
PII_KINDS = ("email", "ip_address", "key", "password")
COUNT_COLUMNS = tuple(f"redact_{kind}" for kind in PII_KINDS)
#: The columns the stage adds, with their types.
REDACT_COLUMNS: dict[str, type[pl.DataType]] = {
    **dict.fromkeys(COUNT_COLUMNS, pl.UInt32),
    "redact_share": pl.Float64,
}
MOSTLY_SECRETS = "mostly_secrets"
REASONS = (MOSTLY_SECRETS,)


@dataclass(frozen=True)
class RedactConfig:
    """Settings of the redaction stage (TOML: ``[redact]``)."""

    enabled: bool = True
    # E-mail domains (and their subdomains) and whole addresses that are nobody's personal
    # data, beyond the documentation domains and noreply addresses.
    allow_domains: tuple[str, ...] = ()
    allow_emails: tuple[str, ...] = ()
    # A file with more of its bytes redacted than this is mostly secrets: mostly_secrets.
    max_secret_share: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_secret_share <= 1.0:
            raise ValueError("invalid redact config: max_secret_share must be in [0, 1]")


def redaction(text: str | pl.Expr, path: str | pl.Expr, cfg: RedactConfig | None = None) -> pl.Expr:
    """Each file redacted, as a struct of ``redacted`` (the text) and :data:`REDACT_COLUMNS`."""
    cfg = cfg or RedactConfig()
    kwargs = {"allow_domains": list(cfg.allow_domains), "allow_emails": list(cfg.allow_emails)}
    return plugin_expr("redact_expr", [to_expr(text), to_expr(path)], kwargs)


def redact(
    lf: pl.LazyFrame, cfg: RedactConfig | None = None, *, column: str = "content"
) -> pl.LazyFrame:
    """The stage over a frame with ``path`` and a String ``column`` of file texts: the
    column redacted, :data:`REDACT_COLUMNS` and ``redact_reason`` (null: kept) added. When
    the stage is not ``enabled`` the text stays and nothing is counted."""
    cfg = cfg or RedactConfig()
    if not cfg.enabled:
        zeros = [pl.lit(0, dtype).alias(name) for name, dtype in REDACT_COLUMNS.items()]
        return lf.with_columns(*zeros, redact_reason=pl.lit(None, pl.String))
    out = (
        lf.with_columns(redaction(column, "path", cfg).alias("_redact"))
        .unnest("_redact")
        .with_columns(pl.col("redacted").alias(column))
        .drop("redacted")
    )
    mostly = pl.col("redact_share") > cfg.max_secret_share
    return out.with_columns(redact_reason=pl.when(mostly).then(pl.lit(MOSTLY_SECRETS)))
