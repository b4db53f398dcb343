"""Parquet and JSONL shards of file rows (a Stack-like schema) read as repositories.

A table holds one source file per row: its repository's name, its path in the repository,
its content and, optionally, the repository's stars, license and last change. The Stack v1
column names work without configuration (:class:`TableColumns`); other schemas name their
columns in the config's ``[input]`` table. An optional column a file lacks reads as 0 (stars,
updated) or empty (license).

The tables are indexed once, in the main process: the repository and path of every row and
the content's length (to pack shards), never the contents. Rows are grouped into one
:class:`TableRepository` per repository name, whatever files they are in, so ordering and
dedup see repositories as they do for directories. Each shard reads its repositories'
contents itself, at most ``WINDOW_ROWS`` Parquet rows or one JSONL line at a time. A row's
version in the shard key is its file, the file's version (modification time, or an object's
ETag: :func:`dsc.storage.version`) and its row number, so an edited table redoes the shards
of its repositories. Tables may be URLs of fsspec storage (``s3://bucket/*.parquet``,
:mod:`dsc.storage`).

Rows that cannot be used are never fatal and never silent: each is a problem of the
:class:`TableProblems` source named after its file (path ``row N``, or ``file`` for the
whole file), audited in ``OUT/dropped`` with stage ``read``: a file that cannot be read
(``unreadable_table``, e.g. a truncated Parquet file), a line that is not a JSON object
(``not_json``), a missing column (``missing:COLUMN``), a null (``null:COLUMN``), a value of
the wrong type (``not_string:COLUMN``, ``not_integer:COLUMN``). A (repository, path) seen
more than once keeps its first row, in file order then row order; the others are
``duplicate_row``.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dsc.sources import FileEntry, Listing, RepoSource, shown_name
from dsc.storage import is_url, list_files, open_binary, version

TABLE_SUFFIXES = (".parquet", ".jsonl", ".ndjson")
# Parquet rows read at once by a shard: bounds its memory whatever its repositories' size.
WINDOW_ROWS = 1024
_READ_ERRORS = (pl.exceptions.PolarsError, OSError)


@dataclass(frozen=True)
class TableColumns:
    """Which column of a table holds what; ``None``: the tables have no such column."""

    repo: str = "max_stars_repo_name"
    path: str = "max_stars_repo_path"
    content: str = "content"
    # The repository's stars (an integer); dedup_keep = "stars" keeps the most starred copy.
    stars: str | None = "max_stars_count"
    # The repository's license: a string, or a list of them (joined with ", ").
    license: str | None = "max_stars_repo_licenses"
    # When the repository last changed: integer seconds since the epoch, or a Parquet
    # datetime (dedup_keep = "newest"). The Stack has none: its star event times are not
    # changes.
    updated: str | None = None

    def __post_init__(self) -> None:
        given = (self.repo, self.path, self.content, self.stars, self.license, self.updated)
        named = [c for c in given if c is not None]
        if not all(named) or len(set(named)) != len(named):
            raise ValueError(f"input columns must be distinct and non-empty, got {named}")


@dataclass(frozen=True)
class TableRow:
    """Where one row is: its file and row number, and for JSONL its line's bytes."""

    file: str
    row: int
    offset: int = 0
    length: int = 0


@dataclass(frozen=True)
class TableRepository:
    """A repository's rows, from any number of table files: ``name`` is its id in the corpus."""

    name: str
    files: tuple[FileEntry, ...]  # sorted by path
    rows: tuple[TableRow, ...]  # the row of each of `files`
    content_column: str
    repo_stars: int
    repo_license: str
    updated: int

    def listing(self) -> Listing:
        return Listing(self.files, (), self.updated)

    def contents(self, entries: Sequence[FileEntry]) -> Iterator[bytes | None]:
        where = dict(zip((f.relative for f in self.files), self.rows, strict=True))
        wanted = [where[e.relative] for e in entries]
        found: dict[tuple[str, int], bytes | None] = {}
        for file in sorted({r.file for r in wanted}):
            rows = [r for r in wanted if r.file == file]
            read = _parquet_rows if file.endswith(".parquet") else _jsonl_rows
            found.update(read(file, rows, self.content_column))
        for row in wanted:
            yield found[(row.file, row.row)]

    def describe(self) -> dict[str, str]:
        files = sorted({shown_name(r.file) for r in self.rows})
        return {"kind": "table", "location": ", ".join(files), "commit": ""}

    def stars(self) -> int | None:
        return self.repo_stars

    def license(self) -> str | None:
        return self.repo_license


@dataclass(frozen=True)
class TableProblems:
    """The rows of one table file that could not be used: a source with no files, whose
    listing's problems the shard audits."""

    name: str  # the file
    problems: tuple[tuple[str, str], ...]

    def listing(self) -> Listing:
        return Listing((), self.problems)

    def contents(self, entries: Sequence[FileEntry]) -> Iterator[bytes | None]:
        return iter(())

    def describe(self) -> dict[str, str]:
        return {"kind": "table", "location": self.name, "commit": ""}

    def stars(self) -> int | None:
        return 0  # it has no samples to rank

    def license(self) -> str | None:
        return ""


def is_table_input(location: str) -> bool:
    """A table file, a glob, or a directory holding table files directly; a URL names
    tables only (fsspec storage holds no repositories)."""
    if is_url(location):
        return True
    spec = Path(location)
    if spec.is_dir():
        return any(p.suffix in TABLE_SUFFIXES and p.is_file() for p in spec.iterdir())
    return spec.suffix in TABLE_SUFFIXES or glob.has_magic(str(spec))


def table_files(location: str) -> list[str]:
    """The table files ``--input`` names, sorted; an error if it names none or mixes kinds."""
    if is_url(location):
        found_urls = list_files(location, TABLE_SUFFIXES)
        if not found_urls:
            raise SystemExit(f"--input {location}: no table files ({', '.join(TABLE_SUFFIXES)})")
        return found_urls
    spec = Path(location)
    if spec.is_dir():
        if any(p.is_dir() for p in spec.iterdir()):
            raise SystemExit(
                f"--input {spec}: holds table files and subdirectories; pass a glob of the "
                "tables (DIR/*.parquet) or a directory of repositories only"
            )
        found = sorted(p for p in spec.iterdir() if p.suffix in TABLE_SUFFIXES)
    else:
        found = sorted(Path(p) for p in glob.glob(str(spec)))
    others = [p for p in found if p.suffix not in TABLE_SUFFIXES or not p.is_file()]
    if not found or others:
        what = f"not table files ({', '.join(TABLE_SUFFIXES)}): {others}" if others else "no files"
        raise SystemExit(f"--input {spec}: {what}")
    return [str(p) for p in found]


@dataclass(frozen=True)
class _Indexed:
    """One usable row as the index found it."""

    repo: str
    path: str
    size: int
    stars: int
    license: str
    updated: int
    where: TableRow


def table_repositories(files: Sequence[str], columns: TableColumns) -> list[RepoSource]:
    """One :class:`TableRepository` per repository name of ``files`` (sorted by name), then a
    :class:`TableProblems` for each file with unusable rows."""
    by_repo: dict[str, dict[str, _Indexed]] = {}
    problem_sources: list[TableProblems] = []
    for file in files:
        index = _parquet_index if file.endswith(".parquet") else _jsonl_index
        rows, problems = index(file, columns)
        for row in rows:
            paths = by_repo.setdefault(row.repo, {})
            if row.path in paths:
                problems.append((f"row {row.where.row}", "duplicate_row"))
            else:
                paths[row.path] = row
        if problems:
            problem_sources.append(TableProblems(shown_name(file), tuple(problems)))
    repos = [_repository(name, by_repo[name], columns) for name in sorted(by_repo)]
    return [*repos, *problem_sources]


def _repository(name: str, paths: dict[str, _Indexed], columns: TableColumns) -> TableRepository:
    rows = [paths[p] for p in sorted(paths)]
    versions = {r.where.file: version(r.where.file) for r in rows}
    files = tuple(
        FileEntry(r.path, r.size, f"{r.where.file}@{versions[r.where.file]}#{r.where.row}")
        for r in rows
    )
    # Per-row repository facts can disagree across rows; the first license in file order.
    in_file_order = sorted(rows, key=lambda r: (r.where.file, r.where.row))
    license = next((r.license for r in in_file_order if r.license), "")
    return TableRepository(
        name=name,
        files=files,
        rows=tuple(r.where for r in rows),
        content_column=columns.content,
        repo_stars=max(r.stars for r in rows),
        repo_license=license,
        updated=max(r.updated for r in rows),
    )


def _parquet_index(
    file: str, columns: TableColumns
) -> tuple[list[_Indexed], list[tuple[str, str]]]:
    """The usable rows of a Parquet file (repository, path, content length and the optional
    columns; never the contents) and the problems of the others."""
    try:
        schema = dict(pl.scan_parquet(file).collect_schema())
    except _READ_ERRORS:
        return [], [("file", "unreadable_table")]
    problem = _schema_problem(schema, columns)
    if problem:
        return [], [("file", problem)]
    required = (columns.repo, columns.path, columns.content)
    first_null = pl.coalesce(
        [pl.when(pl.col(c).is_null()).then(pl.lit(f"null:{c}")) for c in required]
    )
    try:
        frame = (
            pl.scan_parquet(file)
            .with_row_index("row")
            .select(
                "row",
                repo=pl.col(columns.repo),
                path=pl.col(columns.path),
                size=pl.col(columns.content).str.len_bytes(),
                stars=_optional(schema, columns.stars, _stars),
                license=_optional(schema, columns.license, _license),
                updated=_optional(schema, columns.updated, _updated),
                problem=first_null,
            )
            .collect(engine="streaming")
        )
    except _READ_ERRORS:
        return [], [("file", "unreadable_table")]
    rows = [
        _Indexed(
            r["repo"],
            r["path"],
            r["size"],
            r["stars"],
            r["license"],
            r["updated"],
            TableRow(file, r["row"]),
        )
        for r in frame.filter(pl.col("problem").is_null()).iter_rows(named=True)
    ]
    problems = [
        (f"row {n}", reason)
        for n, reason in frame.filter(pl.col("problem").is_not_null())
        .select("row", "problem")
        .iter_rows()
    ]
    return rows, problems


def _schema_problem(schema: Mapping[str, pl.DataType], columns: TableColumns) -> str | None:
    """Why no row of a file with this schema is usable, if so."""
    for column in (columns.repo, columns.path, columns.content):
        if column not in schema:
            return f"missing:{column}"
        if schema[column] != pl.String:
            return f"not_string:{column}"
    checks: tuple[tuple[str | None, Callable[[pl.DataType], bool], str], ...] = (
        (columns.stars, lambda t: t.is_integer(), "not_integer"),
        (columns.license, lambda t: t == pl.String or t == pl.List(pl.String), "not_string"),
        (columns.updated, lambda t: t.is_integer() or isinstance(t, pl.Datetime), "not_integer"),
    )
    for optional, fits, reason in checks:
        if optional is not None and optional in schema and not fits(schema[optional]):
            return f"{reason}:{optional}"
    return None


def _optional(
    schema: Mapping[str, pl.DataType],
    column: str | None,
    convert: Callable[[pl.Expr, pl.DataType | None], pl.Expr],
) -> pl.Expr:
    """An optional column converted to its plain type; its default where a file lacks it."""
    if column is None or column not in schema:
        return convert(pl.lit(None), None)
    return convert(pl.col(column), schema[column])


def _stars(col: pl.Expr, dtype: pl.DataType | None) -> pl.Expr:
    return col.cast(pl.Int64).fill_null(0)


def _license(col: pl.Expr, dtype: pl.DataType | None) -> pl.Expr:
    joined = col.list.join(", ") if isinstance(dtype, pl.List) else col.cast(pl.String)
    return joined.fill_null("")


def _updated(col: pl.Expr, dtype: pl.DataType | None) -> pl.Expr:
    seconds = col.dt.epoch("s") if isinstance(dtype, pl.Datetime) else col
    return seconds.cast(pl.Int64).fill_null(0)


def _jsonl_index(file: str, columns: TableColumns) -> tuple[list[_Indexed], list[tuple[str, str]]]:
    """The usable lines of a JSONL file and the problems of the others. Lines are parsed one
    by one (not with ``pl.scan_ndjson``, which fails whole on one bad line) so that each bad
    line is audited on its own; blank lines are not rows."""
    rows: list[_Indexed] = []
    problems: list[tuple[str, str]] = []
    try:
        with open_binary(file) as lines:
            offset = 0
            for n, line in enumerate(lines):
                where = TableRow(file, n, offset, len(line))
                offset += len(line)
                if line.strip():
                    row, problem = _jsonl_row(line, columns, where)
                    if row is None:
                        problems.append((f"row {n}", problem))
                    else:
                        rows.append(row)
    except OSError:
        return [], [("file", "unreadable_table")]
    return rows, problems


def _jsonl_row(line: bytes, columns: TableColumns, where: TableRow) -> tuple[_Indexed | None, str]:
    """One line as a row, or None and why it cannot be used."""
    try:
        record = json.loads(line)
    except ValueError:
        return None, "not_json"
    if not isinstance(record, dict):
        return None, "not_json"
    for column in (columns.repo, columns.path, columns.content):
        if column not in record:
            return None, f"missing:{column}"
        if record[column] is None:
            return None, f"null:{column}"
        if not isinstance(record[column], str):
            return None, f"not_string:{column}"
    numbers = {}
    for key, optional in (("stars", columns.stars), ("updated", columns.updated)):
        value = record.get(optional) if optional is not None else None
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return None, f"not_integer:{optional}"
        numbers[key] = value or 0
    license = record.get(columns.license) if columns.license is not None else None
    if isinstance(license, list) and all(isinstance(v, str) for v in license):
        license = ", ".join(license)
    if license is not None and not isinstance(license, str):
        return None, f"not_string:{columns.license}"
    size = len(_encoded(record[columns.content]))
    row = _Indexed(
        record[columns.repo],
        record[columns.path],
        size,
        numbers["stars"],
        license or "",
        numbers["updated"],
        where,
    )
    return row, ""


def _encoded(content: str) -> bytes:
    # JSON can escape lone surrogates; their bytes are not UTF-8, and the filters say so.
    return content.encode("utf-8", "surrogatepass")


def _parquet_rows(
    file: str, rows: Sequence[TableRow], column: str
) -> dict[tuple[str, int], bytes | None]:
    """The contents of ``rows`` of a Parquet file, read in windows of ``WINDOW_ROWS``."""
    numbers = sorted(r.row for r in rows)
    found: dict[tuple[str, int], bytes | None] = {}
    start = 0
    while start < len(numbers):
        end = start
        while end < len(numbers) and numbers[end] - numbers[start] < WINDOW_ROWS:
            end += 1
        first, last = numbers[start], numbers[end - 1]
        try:
            window: list[bytes | None] = (
                pl.scan_parquet(file)
                .slice(first, last - first + 1)
                .select(pl.col(column).cast(pl.Binary))
                .collect()
                .to_series()
                .to_list()
            )
        except _READ_ERRORS:  # e.g. a corrupt page the index did not read
            window = [None] * (last - first + 1)
        found.update(((file, n), window[n - first]) for n in numbers[start:end])
        start = end
    return found


def _jsonl_rows(
    file: str, rows: Sequence[TableRow], column: str
) -> dict[tuple[str, int], bytes | None]:
    """The contents of ``rows`` of a JSONL file, each line read from its offset."""
    found: dict[tuple[str, int], bytes | None] = {}
    try:
        with open_binary(file) as lines:
            for row in rows:
                lines.seek(row.offset)
                try:
                    content = json.loads(lines.read(row.length))[column]
                    found[(file, row.row)] = _encoded(content)
                except (ValueError, KeyError, TypeError, AttributeError):  # edited since
                    found[(file, row.row)] = None
    except OSError:
        found.update(((file, r.row), None) for r in rows)
    return found
