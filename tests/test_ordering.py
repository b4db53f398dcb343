"""Repository-level ordering: refined Algorithm 1 against a slow obvious reference, the frame
API, and import resolution on the machine's standard library."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc import build_corpus, filters, sources
from dsc.ordering import OrderingConfig, file_imports, min_in_degree_order, order_repositories

# --- a slow, obvious refined Algorithm 1 -----------------------------------------------------


def reference_order(n: int, edges: list[tuple[int, int]]) -> list[list[int]]:
    """Algorithm 1 refined, stated plainly: per weakly connected subgraph, emit the strongly
    connected components whose dependencies are all emitted (smallest node first), each by
    repeatedly emitting its remaining node of minimal in-degree from the component (ties to the
    smaller node)."""
    edges = sorted({(a, b) for a, b in edges if a != b})
    reach = reachability(n, edges)
    neighbours: dict[int, set[int]] = {v: set() for v in range(n)}
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    seen: set[int] = set()
    result = []
    for start in range(n):
        if start in seen:
            continue
        component, stack = {start}, [start]
        while stack:
            for w in neighbours[stack.pop()] - component:
                component.add(w)
                stack.append(w)
        seen |= component
        result.append(reference_subgraph_order(component, edges, reach))
    return result


def reference_subgraph_order(
    subgraph: set[int], edges: list[tuple[int, int]], reach: list[set[int]]
) -> list[int]:
    order: list[int] = []

    def cycle_of(v: int) -> set[int]:
        return {u for u in subgraph if u in reach[v] and v in reach[u]}

    def ready(v: int) -> bool:
        cycle = cycle_of(v)
        return all(a in order or a in cycle for a, b in edges if b in cycle)

    while len(order) < len(subgraph):
        cycle = cycle_of(min(v for v in subgraph if v not in order and ready(v)))
        while cycle:
            v = min(cycle, key=lambda u: (sum(1 for a, b in edges if b == u and a in cycle), u))
            order.append(v)
            cycle.remove(v)
    return order


def reachability(n: int, edges: list[tuple[int, int]]) -> list[set[int]]:
    """``reach[a]``: the nodes a path leads to from ``a`` (``a`` included)."""
    reach = [{v} for v in range(n)]
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if not reach[b] <= reach[a]:
                reach[a] |= reach[b]
                changed = True
    return reach


def rust_order(n: int, edges: list[tuple[int, int]]) -> list[list[int]]:
    out = min_in_degree_order(
        n,
        pl.Series([a for a, _ in edges], dtype=pl.UInt32),
        pl.Series([b for _, b in edges], dtype=pl.UInt32),
    )
    groups: list[list[int]] = []
    for node, subgraph in out.iter_rows():
        if subgraph == len(groups):
            groups.append([])
        groups[subgraph].append(node)
    return groups


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 24) -> tuple[int, list[tuple[int, int]]]:
    n = draw(st.integers(1, max_nodes))
    node = st.integers(0, n - 1)
    return n, draw(st.lists(st.tuples(node, node), max_size=3 * n))


@given(graphs())
def test_matches_the_reference_on_any_graph(graph):
    n, edges = graph
    assert rust_order(n, edges) == reference_order(n, edges)


@given(graphs())
def test_output_is_a_permutation(graph):
    n, edges = graph
    assert sorted(v for group in rust_order(n, edges) for v in group) == list(range(n))


@given(graphs(), st.randoms(use_true_random=False))
def test_a_dag_respects_every_edge(graph, rnd):
    n, edges = graph
    labels = list(range(n))
    rnd.shuffle(labels)  # relabel so that the DAG is not simply "small before large"
    dag = [(labels[min(a, b)], labels[max(a, b)]) for a, b in edges if a != b]
    position = {v: i for group in rust_order(n, dag) for i, v in enumerate(group)}
    assert all(position[a] < position[b] for a, b in dag)


@given(graphs())
def test_no_edge_outside_a_cycle_points_backwards(graph):
    n, edges = graph
    reach = reachability(n, edges)
    position = {v: i for group in rust_order(n, edges) for i, v in enumerate(group)}
    for a, b in edges:
        assert position[a] < position[b] or a in reach[b], f"edge {a}->{b} backwards"


@given(graphs())
def test_inside_a_cycle_each_emitted_node_has_the_minimal_remaining_in_degree(graph):
    n, edges = graph
    edges = list({(a, b) for a, b in edges if a != b})
    reach = reachability(n, edges)
    for group in rust_order(n, edges):
        remaining = set(group)
        for v in group:
            cycle = {u for u in remaining if u in reach[v] and v in reach[u]}
            in_degree = {u: sum(1 for a, b in edges if b == u and a in remaining) for u in cycle}
            # A node with in-degree 0 is never passed over for one with a larger in-degree.
            assert in_degree[v] == min(in_degree.values())
            remaining.remove(v)


# --- the frame API on repositories written as files --------------------------------------------


def graph_repository(n: int, edges: list[tuple[int, int]]) -> pl.DataFrame:
    """A Python repository whose imports are the graph: edge (a, b) means b imports a."""
    imports: dict[int, list[str]] = {v: [] for v in range(n)}
    for a, b in edges:
        imports[b].append(f"import m{a:03d}\n")
    return pl.DataFrame(
        {
            "repo": ["g"] * n,
            "path": [f"m{v:03d}.py" for v in range(n)],
            "lang": ["Python"] * n,
            "content": ["".join(imports[v]) + f"X{v} = {v}\n" for v in range(n)],
        }
    )


@given(graphs(max_nodes=16), st.randoms(use_true_random=False))
def test_repository_samples_follow_algorithm_1_whatever_the_row_order(graph, rnd):
    n, edges = graph
    files = graph_repository(n, edges)
    rows = list(range(n))
    rnd.shuffle(rows)
    shuffled = files[rows]
    by_subgraph = order_repositories(shuffled)
    expected = [[f"m{v:03d}.py" for v in group] for group in reference_order(n, edges)]
    assert sorted(by_subgraph["files"].to_list()) == sorted(expected)
    assert by_subgraph.equals(order_repositories(files))
    whole = order_repositories(shuffled, OrderingConfig(mode="repository"))
    assert whole["files"].to_list() == [[p for group in expected for p in group]]


def test_samples_carry_path_comments_and_file_offsets():
    files = pl.DataFrame(
        {
            "repo": ["b", "a", "a", "a", "a"],
            "path": ["x.py", "src/App.java", "src/util/Text.java", "README.md", "web/app.js"],
            "lang": ["Python", "Java", "Java", "Markdown", None],
            "content": [
                "print(1)",
                "package src;\nimport src.util.Text;\nclass App {}\n",
                "package src.util;\nclass Text {}\n",
                "# Hi\n",
                "import './lib.js';\n",
            ],
        }
    )
    out = order_repositories(files)
    assert out.select("repo", "sample_id").rows() == [("a", 0), ("a", 1), ("a", 2), ("b", 0)]
    assert out["files"].to_list() == [
        ["README.md"],
        ["src/util/Text.java", "src/App.java"],
        ["web/app.js"],
        ["x.py"],
    ]
    java = out.row(1, named=True)
    assert java["langs"] == ["Java", "Java"]
    text: bytes = java["text"].encode()
    bounds = java["offsets"]
    assert bounds[0] == 0 and bounds[-1] == len(text)
    first = text[bounds[0] : bounds[1]].decode()
    assert first == "// src/util/Text.java\npackage src.util;\nclass Text {}\n"
    assert out.row(0, named=True)["text"] == "<!-- README.md -->\n# Hi\n"
    assert out.row(3, named=True)["text"] == "# x.py\nprint(1)\n"


def test_file_imports_lists_resolved_and_unresolved_imports_per_row():
    files = pl.DataFrame(
        {
            "repo": ["r", "r", "r"],
            "path": ["pkg/a.py", "pkg/b.py", "notes.txt"],
            "lang": ["Python", "Python", None],
            "content": ["from . import b\nimport numpy\n# import pkg.c\n", "", "import b"],
        }
    )
    out = file_imports(files)
    assert out.columns == ["repo", "path", "imports", "unresolved", "deps"]
    assert out.row(0) == ("r", "pkg/a.py", [".", "numpy"], ["numpy"], ["pkg/b.py"])
    assert out.row(2) == ("r", "notes.txt", [], [], [])


def test_bad_input_is_reported_by_name():
    files = pl.DataFrame(
        {"repo": ["r", "r"], "path": ["a.py", "a.py"], "lang": ["Python"] * 2, "content": ["", ""]}
    )
    with pytest.raises(ValueError, match=r'repository "r": duplicate path "a.py"'):
        order_repositories(files)
    with pytest.raises(ValueError, match=r"missing \['content'\]"):
        order_repositories(files.drop("content"))
    with pytest.raises(ValueError, match="content is null in row 1"):
        order_repositories(files.with_columns(content=pl.Series(["", None])))
    with pytest.raises(ValueError, match="no import support for \\['Markdown'\\]"):
        OrderingConfig(repo_level_languages=("Markdown",))
    with pytest.raises(ValueError, match=r"ordering\.mode"):
        OrderingConfig(mode="file")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="names node 5"):
        min_in_degree_order(3, pl.Series([5], dtype=pl.UInt32), pl.Series([0], dtype=pl.UInt32))


def test_build_corpus_routes_go_mod_to_the_resolvers(
    tmp_path: Path, benchmarks_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The language filter drops ``go.mod``; its module path must still resolve imports."""
    monkeypatch.setenv("DSC_BENCHMARKS_DIR", str(benchmarks_dir))
    repo = tmp_path / "repos" / "app"
    (repo / "util").mkdir(parents=True)
    (repo / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    (repo / "main.go").write_text(
        'package main\n\nimport "example.com/app/util"\n\nfunc main() {\n\tutil.Join("a")\n}\n'
    )
    (repo / "util" / "util.go").write_text(
        "package util\n\n// Join returns s.\nfunc Join(s string) string {\n\treturn s\n}\n"
    )
    config = tmp_path / "corpus.toml"
    config.write_text("[ordering]\nrepo_level_languages = ['Go']\n")
    out = tmp_path / "out"
    args = ["--input", str(tmp_path / "repos"), "--out", str(out), "--config", str(config)]
    assert build_corpus.main(args) == 0
    samples = pl.read_parquet(out / "samples")["files"].to_list()
    assert ["util/util.go", "main.go"] in samples
    assert all("go.mod" not in files for files in samples)


# --- real code: the machine's standard library -------------------------------------------------

# Share of Python import statements in the standard library that resolve to a file of the same
# repository (each stdlib package directory is a repository, loose modules one more). Imports
# across those repositories cannot resolve, so the share is well below 1; a regression in the
# regexes or the resolution rules drops it far below this floor.
STDLIB_PYTHON_RESOLVED_FLOOR = 0.25


def real_files(repos: list[sources.Repository], max_bytes: int | None) -> pl.DataFrame:
    raw = sources.read_repositories(repos, max_bytes=max_bytes)
    return (
        raw.with_columns(
            lang=filters.detect_language("path", "raw"), content=filters.decode_text("raw")
        )
        .filter(pl.col("content").is_not_null())
        .select("repo", "path", "lang", "content")
    )


def resolution_shares(imports: pl.DataFrame, files: pl.DataFrame) -> pl.DataFrame:
    """Per language: import statements, and the share resolved to a file of the repository."""
    return (
        imports.join(files.select("repo", "path", "lang"), on=["repo", "path"])
        .filter(pl.col("lang").is_not_null())
        .group_by("lang")
        .agg(
            statements=pl.col("imports").list.len().sum(),
            unresolved=pl.col("unresolved").list.len().sum(),
        )
        .with_columns(resolved_share=1 - pl.col("unresolved") / pl.col("statements"))
        .filter(pl.col("statements") > 0)
        .sort("lang")
    )


@pytest.mark.slow
def test_stdlib_imports_resolve_above_the_floor():
    files = real_files(sources.stdlib_repositories(), max_bytes=None)
    shares = resolution_shares(file_imports(files), files)
    print(f"\nstdlib import resolution ({files.height} files):\n{shares}")
    python = shares.filter(pl.col("lang") == "Python").row(0, named=True)
    assert python["statements"] > 5_000
    assert python["resolved_share"] >= STDLIB_PYTHON_RESOLVED_FLOOR
    samples = order_repositories(files)
    python_files = files.filter(pl.col("lang").is_in(OrderingConfig().repo_level_languages))
    assert samples["files"].list.len().sum() == files.height
    assert samples.filter(pl.col("files").list.len() > 1).height > 0
    assert python_files.height > 0
