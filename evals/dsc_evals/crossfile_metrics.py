"""CrossCodeEval's metrics (Ding et al., "CrossCodeEval", NeurIPS 2023 Datasets and Benchmarks),
computed as its public harness computes them (amazon-science/cceval, ``scripts/eval_metric.py`` and
``scripts/eval_utils.py``):

- the completion is cut to its first statement: in Java, C# and TypeScript at the first ``;``,
  ``{`` or ``}`` (kept); in Python after the first complete logical line;
- comments are removed from completion and ground truth: ``#`` and ``//`` to the end of the line,
  in every language and inside strings too, exactly as the harness's regular expressions do (so a
  Python ``a // b`` loses its ``// b`` on both sides);
- exact match: the non-blank lines, stripped, are equal;
- edit similarity: the fuzz ratio of the two stripped strings, here in [0, 1] (the paper's tables
  print it times 100);
- identifier exact match: the lists of identifiers are equal (order and repeats count);
  identifier F1: over the two sets of identifiers, 0 when both are empty (as the harness does).

Two differences from the harness, both deterministic and dependency-light: Python's statement end
is found with Python's own tokenizer (a NEWLINE token, the end of a logical line) where the harness
asks tree-sitter for the shortest parseable prefix followed by a line break; and the fuzz ratio is
rapidfuzz's (the Indel similarity that fuzzywuzzy computes with python-Levenshtein and thefuzz
computes today), not rounded to an integer per sample.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from dataclasses import dataclass

from rapidfuzz import fuzz

LANGUAGES = ("python", "java", "typescript", "csharp")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The harness's keyword lists (cceval scripts/keywords, from Microsoft's dpu-utils); Python's is
# the interpreter's, without True and False.
KEYWORDS: dict[str, frozenset[str]] = {
    "python": frozenset(k for k in keyword.kwlist if k not in ("True", "False")),
    "java": _words(
        "abstract assert boolean break byte case catch char class continue default do double else"
        " enum extends final finally float for if implements import instanceof int interface long"
        " native new package private protected public return short static strictfp super switch"
        " synchronized this throw throws transient try void volatile while var const goto"
    ),
    "csharp": _words(
        "abstract as base bool break byte case catch char checked class const continue decimal"
        " default delegate do double else enum event explicit extern finally fixed float for"
        " foreach goto if implicit in int interface internal is lock long namespace new null"
        " object operator out override params private protected public readonly ref return sbyte"
        " sealed short sizeof stackalloc static string struct switch this throw try typeof uint"
        " ulong unchecked unsafe ushort using virtual void volatile while"
    ),
    "typescript": _words(
        "break case catch class const continue debugger default delete do else export extends"
        " finally for function if import in instanceof new return super switch this throw try"
        " typeof var void while with yield enum implements interface let package private"
        " protected public static"
    ),
}

_STRING = re.compile(r'"([^"\\]*(\\.[^"\\]*)*)"|\'([^\'\\]*(\\.[^\'\\]*)*)\'')
_IDENTIFIER_START = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_COMMENTS = (re.compile(r"#.*"), re.compile(r"//.*"))


@dataclass(frozen=True)
class CompletionScores:
    exact_match: bool
    edit_similarity: float  # in [0, 1]
    identifier_exact_match: bool
    identifier_f1: float  # in [0, 1]


def check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is none of {', '.join(LANGUAGES)}")


def first_statement(prompt: str, completion: str, language: str) -> str:
    """The completion up to the end of its first statement (the harness's post-processing)."""
    check_language(language)
    if language == "python":
        return _first_python_statement(prompt, completion)
    ends = [i for i in (completion.find(c) for c in ";{}") if i >= 0]
    return completion[: min(ends) + 1] if ends else completion


def _first_python_statement(prompt: str, completion: str) -> str:
    """Up to the first end of a logical line that lies in the completion and closes some of its
    text; the whole completion when the tokenizer finds none (or fails first)."""
    text = prompt + completion
    lines = io.StringIO(text).readlines()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.NEWLINE:
                continue
            end = starts[token.start[0] - 1] + token.start[1]
            if end >= len(prompt) and text[len(prompt) : end].strip():
                return completion[: end - len(prompt)].rstrip()
    except (tokenize.TokenError, SyntaxError):
        pass  # unbalanced or badly indented text: keep the completion as it is, as the harness
    return completion


def remove_comments(code: str) -> str:
    for pattern in _COMMENTS:
        code = pattern.sub("", code)
    return code


def identifiers(code: str, language: str) -> list[str]:
    """The identifiers of ``code`` in order: string literals removed, ``\\w+`` words that start
    like an identifier and are no keyword of ``language``."""
    check_language(language)
    words = re.findall(r"\w+", _STRING.sub("", code))
    return [w for w in words if _IDENTIFIER_START.match(w) and w not in KEYWORDS[language]]


def edit_similarity(a: str, b: str) -> float:
    """Fuzz ratio of the stripped strings, in [0, 1]; 1 for equal strings (both empty too)."""
    return fuzz.ratio(a.strip(), b.strip()) / 100


def identifier_f1(predicted: list[str], target: list[str]) -> float:
    found, wanted = set(predicted), set(target)
    hits = len(found & wanted)
    denominator = len(found) + len(wanted)  # = 2 tp + fp + fn
    return 2 * hits / denominator if denominator else 0.0


def _lines(code: str) -> list[str]:
    return [line.strip() for line in code.split("\n") if line.strip()]


def score_completion(
    prompt: str, completion: str, groundtruth: str, language: str
) -> CompletionScores:
    """All four metrics of one completion of ``prompt`` against ``groundtruth``."""
    predicted = remove_comments(first_statement(prompt, completion, language))
    target = remove_comments(groundtruth)
    predicted_ids, target_ids = identifiers(predicted, language), identifiers(target, language)
    return CompletionScores(
        exact_match=_lines(predicted) == _lines(target),
        edit_similarity=edit_similarity(predicted, target),
        identifier_exact_match=predicted_ids == target_ids,
        identifier_f1=identifier_f1(predicted_ids, target_ids),
    )
