"""``OUT/report.html``: its numbers are the audit's, input text is escaped, and it draws."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from PIL import Image

from dsc import build_corpus, report

# Repositories that are copies of one another: one near-duplicate cluster of three.
LIBRARY = "".join(f"def scale_{i}(x):\n    return x * {i * 7 % 101} + {i}\n\n" for i in range(60))
COPIES = ("copy_a", "copy_b", "copy_c")
# A directory and a file name that are markup, and a dropped file (a syntax error) whose first
# lines are markup and a terminal escape: the page must show them as text.
HOSTILE_REPO = "<b>evil&co</b>"
HOSTILE_FILE = '<img src=x onerror="alert(1)">.py'
HOSTILE_TEXT = 'def f(:\n</pre><script>document.title = "pwned"</script>\n\x1b[31m red\n'
# A settings module with personal data and a key, and a key dump (mostly secrets: dropped).
SETTINGS = (
    "ADMINS = ['jane.doe@acme-corp.io', 'ops@acme-corp.io']\n"
    "AWS_ACCESS_KEY_ID = 'AKIA4QWERTYZ7UIOPASD'\nDEBUG = False\n"
    "ALLOWED_HOSTS = ['localhost', 'app.internal']\nTIME_ZONE = 'UTC'\nLANGUAGE_CODE = 'en-us'\n"
)
KEY_BLOCK = "-----BEGIN PRIVATE KEY-----\n" + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n" * 20
KEY_DUMP = f'KEY = """{KEY_BLOCK}-----END PRIVATE KEY-----"""\n'


def leaked_solution(benchmarks_dir: Path) -> str:
    """HumanEval's Python/0, prompt and solution, as a file of some repository."""
    first = (benchmarks_dir / "humaneval-python.jsonl").read_text().splitlines()[0]
    item = json.loads(first)
    return item["prompt"] + item["canonical_solution"]


def write_repos(root: Path, benchmarks_dir: Path) -> None:
    files = {
        "plain/app.py": "import os\n\n\ndef home():\n    return os.path.expanduser('~')\n",
        "plain/README.md": "# Plain\n\nAn application that finds the home directory.\n",
        "plain/build.rs": 'fn main() {\n    println!("cargo:rerun-if-changed=build.rs");\n}\n',
        "plain/settings.py": SETTINGS,
        "plain/key_dump.py": KEY_DUMP,
        "leaky/solution.py": leaked_solution(benchmarks_dir),
        f"{HOSTILE_REPO}/{HOSTILE_FILE}": HOSTILE_TEXT,
        **{f"{name}/lib.py": LIBRARY for name in COPIES},
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, benchmarks_dir: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("report")
    write_repos(root / "repos", benchmarks_dir)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DSC_BENCHMARKS_DIR", str(benchmarks_dir))
        args = ["--input", str(root / "repos"), "--out", str(root / "out"), "--quiet"]
        assert build_corpus.main(args) == 0
    yield root / "out"


def page(out: Path) -> str:
    return (out / report.REPORT_FILE).read_text(encoding="utf-8")


def row(*cells: object) -> str:
    """The first cells of a table row as the report writes them (numbers right-aligned, with
    thousands separators)."""

    def cell(value: object) -> str:
        if isinstance(value, int):
            return f'<td class="n">{value:,}</td>'
        if isinstance(value, float):
            return f'<td class="n">{value:,.2f}</td>'
        return f"<td>{value}</td>"

    return "<tr>" + "".join(cell(c) for c in cells)


def test_drops_are_counted_as_in_the_audit_with_examples(built: Path) -> None:
    html = page(built)
    dropped = pl.read_parquet(built / "dropped")
    counts = dropped.group_by("stage", "reason").agg(pl.len(), pl.col("n_bytes").sum())
    assert counts.height >= 2  # a syntax error and a contaminated file at least
    for stage, reason, files, n_bytes in counts.iter_rows():
        assert row(stage, reason, files, n_bytes) in html
        assert f"<h3>{stage}: {reason}</h3>" in html
    assert "from typing import List" in html  # the contaminated file's first line
    assert row("humaneval", 1, 1, "Python/0:prompt") in html


def test_languages_are_the_kept_files_of_the_deduplicated_corpus(built: Path) -> None:
    html = page(built)
    corpus = pl.read_parquet(built / "dedup" / "data").filter("keep")
    files = pl.read_parquet(built / "files").filter(pl.col("repo").is_in(corpus["repo"]))
    for lang, n in files.group_by("lang").len().iter_rows():
        assert re.search(rf"<tr><td>{lang}</td><td class=\"n\">{n:,}</td>", html), lang
    total = int(corpus["n_bytes"].sum())
    assert row("samples in the corpus", corpus.height, total) in html


def test_redactions_are_counted_as_in_the_kept_files(built: Path) -> None:
    html = page(built)
    files = pl.read_parquet(built / "files")
    assert "AKIA4QWERTYZ7UIOPASD" not in html and "jane.doe" not in html
    for kind in ("email", "ip_address", "key", "password"):
        col = files[f"redact_{kind}"]
        assert row(kind, int(col.sum()), int((col > 0).sum())) in html
    assert row("plain/settings.py", 2, 0, 1, 0) in html  # two e-mails, one key
    dropped = pl.read_parquet(built / "dropped").filter(reason="mostly_secrets")
    assert dropped["path"].to_list() == ["key_dump.py"]
    assert "1 files were dropped as mostly secrets" in html


def test_an_older_output_is_named_with_what_it_lacks(built: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(built, old)
    for shard in (old / "dedup" / "data").glob("*.parquet"):
        pl.read_parquet(shard).drop("n_bytes", "n_tokens_est").write_parquet(shard)
    with pytest.raises(SystemExit, match=r"dedup/data: no column n_bytes, n_tokens_est: .*older"):
        report.main([str(old)])


def test_the_copies_are_one_cluster_of_three(built: Path) -> None:
    html = page(built)
    removed = pl.read_parquet(built / "dedup" / "audit")
    assert removed.height == 2 and removed["kept_id"].n_unique() == 1
    kept = removed["kept_id"][0]
    members = ", ".join(sorted(removed["removed_id"]))
    assert row(kept, 3, 1.0, members) in html
    assert "1 clusters; 2 units removed" in html


def test_input_text_is_escaped(built: Path) -> None:
    html = page(built)
    for hostile in ("<b>evil", "<img src=x", "<script>", "</pre><script>", "\x1b"):
        assert hostile not in html
    assert (
        "&lt;b&gt;evil&amp;co&lt;/b&gt;/&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.py" in html
    )
    assert "&lt;/pre&gt;&lt;script&gt;document.title = &quot;pwned&quot;" in html
    assert "\ufffd[31m red" in html


def test_the_command_rewrites_the_same_page(built: Path, capsys: pytest.CaptureFixture) -> None:
    before = page(built)
    (built / report.REPORT_FILE).unlink()
    assert report.main([str(built)]) == 0
    assert capsys.readouterr().out.strip() == str(built / report.REPORT_FILE)
    assert page(built) == before


# Run after the page loaded: the DOM then says how wide each image decoded (0: it did not).
MEASURE_IMAGES = (
    "<script>addEventListener('load', () => { document.body.dataset.images = "
    "[...document.images].map(i => i.complete ? i.naturalWidth : 0).join(' '); });</script>"
)


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on a local page; no network is needed (or reachable, by design)."""
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    return subprocess.run(
        [exe, *flags, *args], capture_output=True, text=True, timeout=120, check=True
    )


def test_the_page_and_its_plots_draw_in_chromium(built: Path, tmp_path: Path) -> None:
    html = page(built)
    plots = html.count("<img ")
    assert plots >= 4  # languages, drops, cluster sizes, sample lengths (and timing)
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", MEASURE_IMAGES + "</body>"), encoding="utf-8")
    dom = chromium("--dump-dom", probe.as_uri()).stdout
    widths = re.search(r'data-images="([^"]*)"', dom)
    assert widths is not None, dom[-2000:]
    assert len(widths[1].split()) == plots
    assert all(int(w) > 100 for w in widths[1].split())

    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1000,2000", (built / "report.html").as_uri())
    with Image.open(shot) as image:
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colors) > 50  # text, tables and plots, not a blank page
