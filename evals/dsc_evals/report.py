"""The side-by-side table: our scores next to the paper's figures (DeepSeek-Coder §4)."""

from __future__ import annotations

from typing import Any

from dsc_evals.tasks.humaneval import MULTIPLE_LANGUAGES

# task -> (metric, [(paper model, percent)]); all greedy pass@1 unless the metric says otherwise.
PAPER_FIGURES: dict[str, tuple[str, list[tuple[str, float]]]] = {
    "humaneval": ("pass@1", [("Base 33B", 56.1), ("Instruct 33B", 79.3)]),
    "humaneval-avg": (
        "pass@1",
        [("Base 33B", 50.3), ("Base 6.7B", 44.7), ("Base 1.3B", 28.3)],
    ),
    "mbpp": ("pass@1", [("Base 33B", 66.0), ("Instruct 33B", 70.0)]),
    "leetcode": ("pass@1", [("Instruct 33B", 27.8)]),
    "infilling-single-line": (
        "group_mean",  # exact match, the mean of Python, Java and JavaScript
        [("1.3B", 70.4), ("6.7B", 80.7), ("33B", 81.2)],
    ),
    "gsm8k": ("pass@1", [("Base 33B", 60.7)]),
    "ds1000": ("pass@1", [("Base 33B", 40.2)]),
    "math": ("pass@1", [("Base 33B", 29.1)]),
    "crosscodeeval-no-retrieval": ("group_mean", []),  # exact match, mean of the 4 languages
    "crosscodeeval-bm25": ("group_mean", [("Base 6.7B", 16.03)]),
    # Ours (`crossfile build`): no paper figure exists for it.
    "crossfile": ("group_mean", []),
    "crossfile-no-retrieval": ("group_mean", []),
}
# Further scores a task may have, each printed on a row of its own under the task's.
SCORES = ("edit_similarity", "identifier_exact_match", "identifier_f1")
HUMANEVAL_AVERAGE = ("humaneval", *(f"humaneval-{lang}" for lang in MULTIPLE_LANGUAGES))


def with_average(tasks: dict[str, Any]) -> dict[str, Any]:
    """``tasks`` plus ``humaneval-avg`` (the paper's 8-language mean) when all 8 were scored."""
    scored = [tasks.get(name, {}).get("pass@1") for name in HUMANEVAL_AVERAGE]
    if any(score is None for score in scored):
        return tasks
    mean = sum(scored) / len(scored)  # type: ignore[arg-type]
    return {**tasks, "humaneval-avg": {"pass@1": mean, "problems": None}}


def table(summary: dict[str, Any]) -> str:
    """A plain-text table, one row per task."""
    rows = [("task", "metric", "ours %", "paper (same metric)")]
    for name, scores in with_average(summary["tasks"]).items():
        metric, figures = PAPER_FIGURES.get(name, ("pass@1", []))
        if "skipped" in scores:
            rows.append((name, "-", "skipped", scores["skipped"]))
            continue
        if "bits_per_byte" in scores:
            rows.append((name, "bits/byte", f"{scores['bits_per_byte']:.4f}", "-"))
            continue
        paper = ", ".join(f"{model} {value:.1f}" for model, value in figures) or "-"
        rows.append((name, metric, f"{100 * scores[metric]:.1f}", paper))
        for score in (s for s in SCORES if s in scores):
            rows.append((f"  {name}", score, f"{100 * scores[score]:.1f}", ""))
        for group, value in scores.get("by_group", {}).items():
            rows.append((f"  {name}/{group}", "pass@1", f"{100 * value:.1f}", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)
