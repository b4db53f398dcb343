"""The ran-to-completion rule: a program passes only if it printed a marker placed after its tests.

An exit status of 0 alone proves nothing: a completion that calls ``exit()``, ``os._exit(0)``,
``System.exit(0)``, ``process.exit(0)``, ``exit 0`` ... before the tests run would pass. So the
engine gives every program a fresh random marker (never seen by the model, never reused) and puts a
statement printing it after the last test; a sample passes only when the marker is in its stdout.
The marker is removed from the recorded output, so records stay the same from run to run.

Every task gets this rule for free: it is applied by the engine to every :class:`Program`, whose
source must end with its tests (for C++, Java and C#: with the ``main`` that runs them).
"""

from __future__ import annotations

import secrets

PREFIX = "dsc-evals-end-"

# The statement printing the marker, per language.
_PRINT = {
    "python": 'print("{marker}", flush=True)',
    "cpp": 'std::puts("{marker}");',
    "java": 'System.out.println("{marker}");',
    "cs": 'System.Console.WriteLine("{marker}");',
    "js": 'console.log("{marker}");',
    "ts": '(globalThis as any).console.log("{marker}");',  # tsc's es2020 lib has no console
    "php": 'echo "{marker}\\n";',
    "sh": "echo {marker}",
}
# Languages whose tests run in ``main``: how many closing braces end the program after the last
# test (C++: main's; Java and C#: main's, then the class's). The statement goes before them.
_BRACES_AFTER_TESTS = {"cpp": 1, "java": 2, "cs": 2}
_HEADERS = {"cpp": "#include <cstdio>\n"}  # std::puts, whatever the program includes


def new_marker() -> str:
    """A marker no completion can know in advance: 128 random bits, fresh for every program."""
    return PREFIX + secrets.token_hex(16)


def with_end_marker(language: str, source: str, marker: str) -> str:
    """``source`` printing ``marker`` once its last test has run."""
    if language not in _PRINT:
        raise ValueError(f"no end-marker rule for language {language!r}")
    statement = _PRINT[language].format(marker=marker)
    braces = _BRACES_AFTER_TESTS.get(language, 0)
    if braces == 0:
        return f"{source}\n{statement}\n"
    cut = len(source)
    for _ in range(braces):
        cut = source.rfind("}", 0, cut)
        if cut < 0 or source[cut + 1 :].strip("}\n\t\r "):
            raise ValueError(
                f"a {language} program must end with the closing brace(s) of the main that runs"
                f" its tests; it ends with {source[-60:]!r}"
            )
    return f"{_HEADERS.get(language, '')}{source[:cut]}    {statement}\n{source[cut:]}"
