"""``OUT/report.html``: one page that shows what ``build_corpus`` made of its input.

    python -m dsc.report OUT

``build_corpus`` writes it at the end of a run; this command writes it again from the outputs
already on disk (nothing is recomputed): ``summary.json``, the kept files (``files``), the
audit of dropped files (``dropped``), the deduplicated samples and dedup's audit (``dedup``)
and ``timing.json``. The page is self-contained, so it opens without a network: the plots are
matplotlib PNGs inlined as ``data:`` URIs and the style sheet is in the page. Every text that
comes from the input (paths, file heads, ids) is HTML-escaped, control characters shown as
U+FFFD.

Sections: the corpus by language (bytes, files and estimated tokens, the view of
DeepSeek-Coder's Table 1, arXiv:2401.14196 §2), drops per stage and reason with examples,
near-duplicate clusters, decontamination hits per benchmark, redactions per kind, sample
lengths, and the time and peak memory of each phase.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dsc.atomic import write_with
from dsc.redact import COUNT_COLUMNS, MOSTLY_SECRETS, PII_KINDS
from dsc.token_estimate import bytes_per_token

REPORT_FILE = "report.html"
TIMING_FILE = "timing.json"
EXAMPLES = 3  # dropped files shown per stage and reason
LARGEST_CLUSTERS = 10
MOST_REDACTED = 10  # kept files listed with the most redacted spans
CLUSTER_MEMBERS_SHOWN = 5
TOP_LANGUAGES = 25  # bars in the language plot; the table has every language
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 0.4em; margin: 0.2em 0 0.8em; overflow-x: auto; }
img { display: block; margin: 0.5em 0 1em; }
"""


@dataclass(frozen=True)
class Outputs:
    """What the report reads of a ``build_corpus`` output directory."""

    summary: dict[str, Any]
    dropped: pl.DataFrame  # the audit (AUDIT_SCHEMA of dsc.build_corpus)
    corpus: pl.DataFrame  # the kept samples: n_bytes, n_tokens_est, langs, offsets
    duplicates: pl.DataFrame  # dedup's audit: removed_id, kept_id, similarity
    redactions: pl.DataFrame  # the kept files: repo, path and the redaction's counts
    timing: list[dict[str, Any]]  # one row per phase; empty if the run wrote none

    @classmethod
    def read(cls, out: Path) -> Outputs:
        timing = out / TIMING_FILE
        corpus_columns = ["id", "n_bytes", "n_tokens_est", "langs", "offsets", "keep"]
        return cls(
            summary=json.loads((out / "summary.json").read_text()),
            dropped=pl.read_parquet(out / "dropped" / "*.parquet"),
            corpus=read_columns(out / "dedup" / "data", corpus_columns).filter("keep"),
            duplicates=pl.read_parquet(out / "dedup" / "audit" / "*.parquet"),
            redactions=read_columns(out / "files", ["repo", "path", *COUNT_COLUMNS]),
            timing=json.loads(timing.read_text()) if timing.is_file() else [],
        )


def read_columns(directory: Path, columns: list[str]) -> pl.DataFrame:
    """``columns`` of the Parquet files in ``directory``; an output written by an older
    ``build_corpus``, without some of them, is named with what it lacks."""
    files = sorted(directory.glob("*.parquet"))
    if not files:
        raise SystemExit(f"{directory}: no Parquet files; is this the --out of a finished run?")
    schema = pl.read_parquet_schema(files[0])
    missing = [c for c in columns if c not in schema]
    if missing:
        raise SystemExit(
            f"{directory}: no column {', '.join(missing)}: this output was written by an older "
            "build_corpus; run it again into a new --out to get the report"
        )
    return pl.read_parquet(directory / "*.parquet", columns=columns)


def escape(text: object) -> str:
    """``text`` safe inside HTML elements and attribute values."""
    return html.escape(CONTROL.sub("\ufffd", str(text)), quote=True)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; numbers are right-aligned with thousands separators."""

    def cell(value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"<td>{escape(value)}</td>"
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
        return f'<td class="n">{shown}</td>'

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def plot(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure of one plot, in inches. A bare ``Figure`` draws with Agg, needs no display
    and is not kept by pyplot's global list of figures."""
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def image(fig: Figure, alt: str) -> str:
    """``fig`` as an inline PNG (no creation software or date: the bytes depend on the plot)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def barh(labels: Sequence[str], values: Sequence[float], xlabel: str, alt: str) -> str:
    """A horizontal bar chart, the first label on top."""
    fig, ax = plot(8, 0.8 + 0.28 * len(labels))
    ax.barh(range(len(labels)), values, color="#4878a8")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    return image(fig, alt)


def in_unit(n_bytes: Sequence[int]) -> tuple[list[float], str]:
    """``n_bytes`` in the largest of bytes, kB, MB and GB that keeps the largest >= 1."""
    largest = max(n_bytes, default=0)
    scale, unit = (
        next(
            (s, u) for s, u in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1, "bytes")) if largest >= s
        )
        if largest >= 1
        else (1, "bytes")
    )
    return [b / scale for b in n_bytes], unit


def language_rows(corpus: pl.DataFrame) -> pl.DataFrame:
    """Files, bytes and estimated tokens of the corpus by language, largest first."""
    files = corpus.select(
        lang=pl.col("langs"), n_bytes=pl.col("offsets").list.diff(null_behavior="drop")
    ).explode("lang", "n_bytes")
    return (
        files.filter(pl.col("lang").is_not_null())
        .group_by("lang")
        .agg(
            files=pl.len(),
            n_bytes=pl.col("n_bytes").sum(),
            n_tokens_est=(pl.col("n_bytes") / bytes_per_token(pl.col("lang"))).sum().round(),
        )
        .sort(["n_bytes", "lang"], descending=[True, False])
    )


def languages_section(corpus: pl.DataFrame) -> str:
    rows = language_rows(corpus)
    total = max(int(rows["n_bytes"].sum() or 0), 1)
    cells = [
        (r["lang"], r["files"], r["n_bytes"], 100 * r["n_bytes"] / total, int(r["n_tokens_est"]))
        for r in rows.iter_rows(named=True)
    ]
    header = ["language", "files", "bytes", "% of bytes", "tokens (estimated)"]
    parts = ["<h2>The corpus by language</h2>"]
    parts.append(
        "<p>Files of the samples kept by near-dedup (a sample's path comments count with its "
        "files); tokens are estimated from bytes (<code>dsc.token_estimate</code>).</p>"
    )
    if cells:
        top = rows.head(TOP_LANGUAGES)
        sizes, unit = in_unit(top["n_bytes"].to_list())
        parts.append(barh(top["lang"].to_list(), sizes, unit, "corpus bytes by language"))
    parts.append(table(header, cells))
    return "\n".join(parts)


def drops_section(dropped: pl.DataFrame, files_in: int) -> str:
    counts = (
        dropped.group_by("stage", "reason")
        .agg(files=pl.len(), n_bytes=pl.col("n_bytes").sum())
        .sort(["files", "stage", "reason"], descending=[True, False, False])
    )
    rows = [
        (r["stage"], r["reason"], r["files"], r["n_bytes"], 100 * r["files"] / max(files_in, 1))
        for r in counts.iter_rows(named=True)
    ]
    parts = ["<h2>Dropped files</h2>", f"<p>{dropped.height:,} of {files_in:,} files.</p>"]
    if not rows:
        return "\n".join(parts)
    labels = [f"{r['stage']}: {r['reason']}" for r in counts.iter_rows(named=True)]
    parts.append(barh(labels, counts["files"].to_list(), "files", "dropped files by reason"))
    parts.append(table(["stage", "reason", "files", "bytes", "% of files in"], rows))
    for stage, reason in counts.select("stage", "reason").iter_rows():
        parts.append(f"<h3>{escape(stage)}: {escape(reason)}</h3>")
        examples = dropped.filter(stage=stage, reason=reason).sort("repo", "path").head(EXAMPLES)
        parts.extend(drop_example(r) for r in examples.iter_rows(named=True))
    return "\n".join(parts)


def drop_example(row: dict[str, Any]) -> str:
    """One dropped file: where it was, its size, and its first lines if it was read."""
    where = f"{row['repo']}/{row['path']}"
    facts = [f"{row['n_bytes']:,} bytes"] if row["n_bytes"] is not None else []
    if row["decont_benchmark"] is not None:
        facts.append(f"matches {row['decont_benchmark']} {row['decont_item_id']}")
    text = f"<div><code>{escape(where)}</code> ({escape(', '.join(facts))})</div>"
    if row["head"] is not None:
        text += f"<pre>{escape(row['head'])}</pre>"
    return text


def cluster_sizes(duplicates: pl.DataFrame) -> pl.DataFrame:
    """Each near-duplicate cluster: its kept id, its size (kept + removed) and some members."""
    return (
        duplicates.group_by("kept_id")
        .agg(
            size=pl.len() + 1,
            min_similarity=pl.col("similarity").min(),
            removed=pl.col("removed_id").sort().head(CLUSTER_MEMBERS_SHOWN),
        )
        .sort(["size", "kept_id"], descending=[True, False])
    )


def dedup_section(duplicates: pl.DataFrame, summary: dict[str, Any]) -> str:
    clusters = cluster_sizes(duplicates)
    parts = [
        "<h2>Near-duplicates</h2>",
        f"<p>{clusters.height:,} clusters; {duplicates.height:,} units removed "
        f"({summary['samples_removed_as_duplicates']:,} samples), one kept per cluster.</p>",
    ]
    if clusters.height == 0:
        return "\n".join(parts)
    histogram = clusters.group_by("size").len().sort("size")
    fig, ax = plot(8, 3)
    ax.bar(histogram["size"].cast(pl.String).to_list(), histogram["len"].to_list())
    ax.set_xlabel("cluster size (units)")
    ax.set_ylabel("clusters")
    parts.append(image(fig, "near-duplicate cluster sizes"))
    largest = [
        (r["kept_id"], r["size"], r["min_similarity"], ", ".join(r["removed"]))
        for r in clusters.head(LARGEST_CLUSTERS).iter_rows(named=True)
    ]
    parts.append("<h3>Largest clusters</h3>")
    header = ["kept", "size", "lowest similarity", f"removed (first {CLUSTER_MEMBERS_SHOWN})"]
    parts.append(table(header, largest))
    return "\n".join(parts)


def decontamination_section(dropped: pl.DataFrame) -> str:
    hits = (
        dropped.filter(pl.col("decont_benchmark").is_not_null())
        .group_by("decont_benchmark")
        .agg(
            files=pl.len(),
            items=pl.col("decont_item_id").n_unique(),
            examples=pl.col("decont_item_id").unique().sort().head(EXAMPLES),
        )
        .sort("decont_benchmark")
    )
    rows = [
        (r["decont_benchmark"], r["files"], r["items"], ", ".join(r["examples"]))
        for r in hits.iter_rows(named=True)
    ]
    header = ["benchmark", "files dropped", "benchmark items matched", "items (first)"]
    parts = ["<h2>Decontamination</h2>"]
    parts.append(table(header, rows) if rows else "<p>No file matched a benchmark.</p>")
    return "\n".join(parts)


def redaction_section(redactions: pl.DataFrame, dropped: pl.DataFrame) -> str:
    """Spans redacted per kind in the kept files, the files most redacted, and the files
    dropped as mostly secrets."""
    rows = [
        (kind, int(redactions[col].sum()), int((redactions[col] > 0).sum()))
        for kind, col in zip(PII_KINDS, COUNT_COLUMNS, strict=True)
    ]
    mostly = dropped.filter(reason=MOSTLY_SECRETS).height
    parts = [
        "<h2>Redaction</h2>",
        "<p>E-mail addresses, IP addresses, keys and passwords replaced by placeholders in the "
        f"kept files; {mostly:,} files were dropped as mostly secrets ({MOSTLY_SECRETS}).</p>",
        table(["kind", "spans redacted", "files"], rows),
    ]
    spans = pl.sum_horizontal(COUNT_COLUMNS)
    most = (
        redactions.filter(spans > 0)
        .with_columns(spans=spans)
        .sort(["spans", "repo", "path"], descending=[True, False, False])
        .head(MOST_REDACTED)
    )
    if most.height:
        parts.append(f"<h3>Most redacted files (first {MOST_REDACTED})</h3>")
        header = ["file", *PII_KINDS]
        cells = [
            (f"{r['repo']}/{r['path']}", *(r[c] for c in COUNT_COLUMNS))
            for r in most.iter_rows(named=True)
        ]
        parts.append(table(header, cells))
    return "\n".join(parts)


def lengths_section(corpus: pl.DataFrame) -> str:
    parts = ["<h2>Sample lengths</h2>"]
    if corpus.height == 0:
        return "\n".join([*parts, "<p>No samples.</p>"])
    fig, ax = plot(8, 3)
    sizes = corpus["n_bytes"].to_numpy()
    bins = [2**k for k in range(int(sizes.max()).bit_length() + 1)]
    ax.hist(sizes, bins=bins)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("sample bytes")
    ax.set_ylabel("samples")
    parts.append(image(fig, "sample length distribution"))
    quantiles = [("min", 0.0), ("median", 0.5), ("90 %", 0.9), ("99 %", 0.99), ("max", 1.0)]
    rows = [
        (
            name,
            int(corpus["n_bytes"].quantile(q, "nearest") or 0),
            int(corpus["n_tokens_est"].quantile(q, "nearest") or 0),
        )
        for name, q in quantiles
    ]
    parts.append(table(["", "bytes", "tokens (estimated)"], rows))
    return "\n".join(parts)


def timing_section(timing: list[dict[str, Any]]) -> str:
    parts = ["<h2>Time and memory</h2>"]
    if not timing:
        return "\n".join([*parts, "<p>This run wrote no timing.json.</p>"])
    parts.append(
        "<p>Of the run that wrote the report's outputs last (a resumed run times only what "
        "it redid). Peak RSS is the peak so far of the build process and, apart, of its "
        "finished local worker processes; Ray workers are not counted.</p>"
    )
    labels = [t["phase"] for t in timing]
    parts.append(barh(labels, [t["seconds"] for t in timing], "seconds", "time per phase"))
    rows = [(t["phase"], t["seconds"], t["peak_rss_mb"], t["peak_rss_workers_mb"]) for t in timing]
    header = ["phase", "seconds", "peak RSS (MB)", "peak RSS of workers (MB)"]
    parts.append(table(header, rows))
    return "\n".join(parts)


def render(outputs: Outputs, title: str) -> str:
    s = outputs.summary
    overview = table(
        ["", "count", "bytes"],
        [
            ("repositories", s["repos"], ""),
            ("files in", s["files_in"], s["bytes_in"]),
            ("files kept by the per-file stages", s["files_kept"], s["bytes_kept"]),
            ("samples", s["samples"], ""),
            ("samples removed as near-duplicates", s["samples_removed_as_duplicates"], ""),
            ("samples in the corpus", outputs.corpus.height, int(outputs.corpus["n_bytes"].sum())),
        ],
    )
    sections = [
        languages_section(outputs.corpus),
        drops_section(outputs.dropped, s["files_in"]),
        dedup_section(outputs.duplicates, s),
        decontamination_section(outputs.dropped),
        redaction_section(outputs.redactions, outputs.dropped),
        lengths_section(outputs.corpus),
        timing_section(outputs.timing),
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{escape(title)}</h1>\n{overview}\n" + "\n".join(sections) + "\n</body></html>\n"
    )


def write_report(out: Path) -> Path:
    """Write ``out/report.html`` from the outputs of a finished run in ``out``."""
    page = render(Outputs.read(out), f"build_corpus report: {out}")
    path = out / REPORT_FILE
    write_with(lambda tmp: tmp.write_text(page, encoding="utf-8"), path)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dsc.report", description=__doc__)
    parser.add_argument("out", type=Path, help="the --out directory of a build_corpus run")
    args = parser.parse_args(argv)
    print(write_report(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
