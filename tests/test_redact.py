"""The redaction stage: recall and precision per kind on real files with planted fake
secrets, the allow-list, properties of the Python wrapper, and build_corpus end to end."""

from __future__ import annotations

import re
import sysconfig
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc import build_corpus
from dsc.redact import COUNT_COLUMNS, MOSTLY_SECRETS, PII_KINDS, RedactConfig, redact
from dsc.redact_planted import ALLOWED, PlantedFile, planted_set

PLACEHOLDER = re.compile(r"<(?:EMAIL|IP_ADDRESS|KEY|PASSWORD)>")
CONFIG_SUFFIXES = {".yml", ".yaml", ".json", ".js", ".toml", ".cfg", ".md", ".go", ".rb"}


def real_files(repos_dir: Path) -> list[tuple[Path, Path]]:
    """(file, root) pairs: standard-library modules and config and source files of the
    shared repositories, in a fixed order."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    modules = [(p, stdlib) for p in sorted(stdlib.glob("*.py"))[:120]]
    others = sorted(p for p in repos_dir.rglob("*") if p.suffix in CONFIG_SUFFIXES)
    return modules + [(p, repos_dir) for p in others[:: max(1, len(others) // 150)]]


@pytest.fixture(scope="module")
def planted(repos_dir: Path) -> list[PlantedFile]:
    files = real_files(repos_dir)
    out: list[PlantedFile] = []
    for root in {r for _, r in files}:
        out += planted_set([f for f, r in files if r == root], root)
    return out


def redacted(texts: list[str], paths: list[str], cfg: RedactConfig | None = None) -> pl.DataFrame:
    frame = pl.LazyFrame({"path": paths, "content": texts})
    return redact(frame, cfg).collect()


def test_recall_and_precision_per_kind_on_planted_files(planted: list[PlantedFile]) -> None:
    after = redacted([f.text for f in planted], [f.path for f in planted])
    before = redacted([f.original for f in planted], [f.path for f in planted])
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed = []
    extra: Counter[str] = Counter()  # hits the insertions added
    for f, out, orig in zip(
        planted, after.iter_rows(named=True), before.iter_rows(named=True), strict=True
    ):
        for item in f.planted:
            if item.kind == "allowed":
                continue
            total[item.kind] += 1
            total[item.format] += 1
            if item.value not in out["content"]:
                found[item.kind] += 1
                found[item.format] += 1
            else:
                missed.append((f.path, item))
        for kind in PII_KINDS:
            extra[kind] += out[f"redact_{kind}"] - orig[f"redact_{kind}"]
    print("\nkind/format            recall   precision")
    for name in sorted(total):
        recall = found[name] / total[name]
        precision = (
            found[name] / max(extra[name], found[name]) if name in PII_KINDS else float("nan")
        )
        print(f"{name:<22} {recall:6.3f} {precision:9.3f}   ({found[name]}/{total[name]})")
    print("hits on the real files before planting:", before.select(COUNT_COLUMNS).sum().row(0))
    assert len(planted) > 200 and sum(total[k] for k in PII_KINDS) > 600
    for kind in PII_KINDS:
        assert found[kind] / total[kind] >= 0.95, (kind, missed[:5])
        assert found[kind] / max(extra[kind], found[kind]) >= 0.95, kind


def test_the_allow_list_cases_stay(planted: list[PlantedFile]) -> None:
    after = redacted([f.text for f in planted], [f.path for f in planted])
    cases = [
        (item.value, text)
        for f, text in zip(planted, after["content"], strict=True)
        for item in f.planted
        if item.kind == "allowed"
    ]
    assert {value for value, _ in cases} == set(ALLOWED)
    assert [value for value, text in cases if value not in text] == []


def test_hashes_in_lock_files_stay_and_the_allow_list_extends() -> None:
    line = 'secret = "4f1e3b5c9a7d2e8f6b0c1a3d5e7f9b2c4d6e8f0a"\n'
    out = redacted([line, line], ["Cargo.lock", "src/settings.py"])
    assert out["content"].to_list() == [line, 'secret = "<KEY>"\n']
    mail = "# ops@corp.internal and ann@acme.io\n"
    cfg = RedactConfig(allow_domains=("corp.internal",), allow_emails=("ann@acme.io",))
    assert redacted([mail], ["a.py"], cfg)["content"].to_list() == [mail]
    assert redacted([mail], ["a.py"])["content"].to_list() == ["# <EMAIL> and <EMAIL>\n"]


def test_a_disabled_stage_changes_nothing_and_a_bad_share_is_refused() -> None:
    text = "contact = 'jane.doe@acme-corp.io'\n"
    out = redacted([text], ["a.py"], RedactConfig(enabled=False))
    assert out["content"].to_list() == [text]
    assert out.select(COUNT_COLUMNS).sum().row(0) == (0, 0, 0, 0)
    with pytest.raises(ValueError, match="max_secret_share"):
        RedactConfig(max_secret_share=1.5)


SECRETS = st.sampled_from(
    [
        "jane.doe@acme-corp.io",
        "52.14.201.7",
        "AKIA4QWERTYZ7UIOPASD",
        'password = "S3cure-Pass!"',
        "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
        "2a03:2880:f10c:83:face:b00c:0:25de",
    ]
)
TEXTS = st.lists(st.one_of(st.text(max_size=12), SECRETS), max_size=8).map("".join)


@given(TEXTS)
def test_redacting_twice_is_redacting_once(text: str) -> None:
    once = redacted([text], ["a.py"])["content"].to_list()
    assert redacted(once, ["a.py"])["content"].to_list() == once


@given(TEXTS)
def test_the_text_between_placeholders_is_the_input_in_order(text: str) -> None:
    out = redacted([text], ["a.py"]).row(0, named=True)
    assert isinstance(out["content"], str)  # valid UTF-8 out
    at = 0
    for piece in PLACEHOLDER.split(out["content"]):
        found = text.find(piece, at)
        assert found >= 0, (piece, text)
        at = found + len(piece)
    if sum(out[c] for c in COUNT_COLUMNS) == 0:
        assert out["content"] == text


def test_build_corpus_output_holds_no_planted_secret(
    tmp_path: Path, planted: list[PlantedFile], benchmarks_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("DSC_BENCHMARKS_DIR", str(benchmarks_dir))
    chosen = [f for f in planted if f.path.endswith(".py")][:40]
    for i, f in enumerate(chosen):
        path = tmp_path / "repos" / f"repo{i % 4}" / Path(f.path).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text)
    dump = tmp_path / "repos" / "repo0" / "id_rsa.py"
    dump.write_text('KEYS = """' + "\n".join(_keys()) + '"""\n')
    out = tmp_path / "out"
    assert build_corpus.main(["--input", str(tmp_path / "repos"), "--out", str(out)]) == 0
    kept = pl.read_parquet(out / "files" / "*.parquet")
    corpus = pl.read_parquet(out / "dedup" / "data" / "*.parquet")
    dropped = pl.read_parquet(out / "dropped" / "*.parquet")
    texts = [*kept["content"], *corpus["text"]]
    secrets = [i.value for f in chosen for i in f.planted if i.kind != "allowed"]
    assert secrets and not [s for s in secrets if any(s in t for t in texts)]
    assert kept.select(COUNT_COLUMNS).sum().row(0) >= (1, 1, 1, 1)
    mostly = dropped.filter(pl.col("reason") == MOSTLY_SECRETS)
    # The key dump, and tiny files the planted lines outweigh.
    dump_row = mostly.filter(pl.col("path") == "id_rsa.py")
    assert dump_row.select("stage", "redact_key").rows() == [(build_corpus.REDACT, 3)]
    assert set(mostly["stage"]) == {build_corpus.REDACT}


def _keys() -> list[str]:
    body = "\n".join(["MIIEowIBAAKCAQEA7vJ1x9Qn3mK2pL5sT8uW0yZ4bC6dF9gH1jK3lM5nP7qR9sT1uV3w"] * 8)
    return [f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"] * 3
