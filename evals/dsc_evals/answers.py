"""Extracting and comparing math answers (GSM8K numbers, MATH LaTeX answers).

Program output is untrusted text: it is never evaluated as Python. Numbers are read by a small
``ast`` walker that accepts only literals, + - * / ** and sqrt/pi.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def gsm8k_gold(answer: str) -> str:
    """The final number of a GSM8K solution (after ``####``)."""
    return answer.rsplit("####", 1)[-1].strip().replace(",", "")


def last_boxed(solution: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced."""
    start = max(solution.rfind("\\boxed"), solution.rfind("\\fbox"))
    if start < 0:
        return None
    open_at = solution.find("{", start)
    if open_at < 0:
        return None
    depth = 0
    for index in range(open_at, len(solution)):
        depth += {"{": 1, "}": -1}.get(solution[index], 0)
        if depth == 0:
            return solution[open_at + 1 : index]
    return None


def last_line(output: str) -> str:
    """What a PAL program printed last: its answer."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def normalize(answer: str) -> str:
    """A canonical string form of a MATH answer (spacing, delimiters and units dropped)."""
    text = answer.strip().strip("$").strip()
    text = re.sub(r"\\text\{\s*[a-zA-Z ]*\}\s*$", "", text)  # trailing units
    text = re.sub(r"^[a-zA-Z]\s*=\s*", "", text)  # "x = 5"
    for old, new in (
        ("\\!", ""),
        ("\\left", ""),
        ("\\right", ""),
        ("^{\\circ}", ""),
        ("^\\circ", ""),
        ("\\$", ""),
        ("\\%", ""),
        ("%", ""),
        ("dfrac", "frac"),
        ("tfrac", "frac"),
        ("\\displaystyle", ""),
        (" ", ""),
    ):
        text = text.replace(old, new)
    text = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\sqrt(\d+)", r"\\sqrt{\1}", text)
    text = re.sub(r"\\text\{(.*?)\}", r"\1", text)
    if re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return text.rstrip(".")


def to_number(answer: str) -> float | None:
    """The value of a plain arithmetic answer (LaTeX fractions and roots allowed), else None."""
    text = normalize(answer).replace(",", "")
    for _ in range(5):  # nested \frac / \sqrt, innermost first
        text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", text)
        text = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", text)
    text = text.replace("\\pi", "pi").replace("\\cdot", "*").replace("\\times", "*")
    text = text.replace("^", "**").replace("{", "(").replace("}", ")")
    try:
        return float(_evaluate(ast.parse(text, mode="eval").body))
    except (SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError):
        return None


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)  # type: ignore[arg-type]
    if isinstance(node, ast.Name) and node.id == "pi":
        return math.pi
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ValueError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "sqrt"
        and len(node.args) == 1
        and not node.keywords
    ):
        return math.sqrt(_evaluate(node.args[0]))
    raise ValueError(f"not plain arithmetic: {ast.dump(node)[:60]}")


def numbers_equal(predicted: str, gold: str) -> bool:
    """Equal as numbers (relative and absolute tolerance 1e-4)."""
    a, b = to_number(predicted), to_number(gold)
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-4)


def math_equivalent(predicted: str, gold: str) -> bool:
    """MATH grading: same canonical string, or the same number."""
    if not predicted.strip():
        return False
    return normalize(predicted) == normalize(gold) or numbers_equal(predicted, gold)
