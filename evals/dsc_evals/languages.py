"""How each language is compiled and run, and which toolchains this machine has."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from dsc_evals.sandbox import SANDBOX_ENV

JAVATUPLES_JAR = "/usr/share/java/javatuples.jar"  # Debian's libjavatuples-java


@dataclass(frozen=True)
class Language:
    """A toolchain: the file a program is written to, how it is compiled and run.

    Python is not here: it runs in the harness's own interpreter, forked by dsc_evals.pyworker.
    """

    name: str
    source_file: str
    run: tuple[str, ...]
    compile: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()  # executables that must be on the sandbox PATH
    files: tuple[str, ...] = ()  # files that must exist (libraries the programs import)
    apt: str = ""  # the Debian packages that provide the toolchain, for the error message
    env: tuple[tuple[str, str], ...] = ()
    failure_marker: str = ""  # output that means a failed test even when the exit status is 0


LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language(
            "cpp",
            "main.cpp",
            # Falling off the end of a non-void function is undefined: optimised, an empty body
            # can even pass; the sanitizer makes it a failure wherever it happens.
            compile=(
                "g++",
                "-std=c++17",
                "-O0",
                "-fsanitize=return",
                "-fno-sanitize-recover=all",
                "-o",
                "main",
                "main.cpp",
            ),
            run=("./main",),
            tools=("g++",),
            apt="g++",
        ),
        Language(
            "java",
            "Problem.java",
            compile=("javac", "-encoding", "UTF-8", "-cp", JAVATUPLES_JAR, "Problem.java"),
            run=("java", "-ea", "-Xss64m", "-Xmx512m", "-cp", f".:{JAVATUPLES_JAR}", "Problem"),
            tools=("javac", "java"),
            files=(JAVATUPLES_JAR,),
            apt="openjdk-17-jdk-headless libjavatuples-java",
        ),
        Language("js", "main.js", run=("node", "main.js"), tools=("node",), apt="nodejs"),
        Language(
            "ts",
            "main.ts",
            compile=(
                "tsc",
                "--target",
                "es2020",
                "--lib",
                "es2020",
                "--module",
                "commonjs",
                "main.ts",
            ),
            run=("node", "main.js"),
            tools=("tsc", "node"),
            apt="node-typescript nodejs",
        ),
        Language("php", "main.php", run=("php", "main.php"), tools=("php",), apt="php-cli"),
        Language(
            "cs",
            "main.cs",
            compile=("mcs", "-d:DEBUG", "-r:System.Numerics.dll", "-out:main.exe", "main.cs"),
            run=("mono", "main.exe"),
            tools=("mcs", "mono"),
            apt="mono-mcs mono-runtime",
            # Mono ignores a failed Debug.Assert unless a trace listener reports it.
            env=(("MONO_TRACE_LISTENER", "Console.Error"),),
            failure_marker="System.Diagnostics.Debug.Assert",
        ),
        Language("sh", "main.sh", run=("bash", "main.sh"), tools=("bash",), apt="bash"),
    )
}


def missing_toolchain(language: Language) -> str | None:
    """Why ``language`` cannot run here, or None when its toolchain is complete."""
    path = SANDBOX_ENV["PATH"]
    for tool in language.tools:
        if shutil.which(tool, path=path) is None:
            return f"{tool!r} not found on {path} (Debian: apt-get install {language.apt})"
    for file in language.files:
        if not Path(file).is_file():
            return f"{file} not found (Debian: apt-get install {language.apt})"
    return None


def detect_toolchains(names: list[str]) -> dict[str, str | None]:
    """For each language name: None when it can run here, else the reason it cannot."""
    return {
        name: None if name == "python" else missing_toolchain(LANGUAGES[name]) for name in names
    }
