"""Command line: ``python -m dsc_evals run|score|selfcheck|setup|crossfile build|toolchains``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dsc_evals import crossfile_build
from dsc_evals.config import ExecConfig, Isolation, Limits
from dsc_evals.data import data_dir_from_env
from dsc_evals.ds1000_runtime import build, runtime_dir
from dsc_evals.fim import FimFormat
from dsc_evals.languages import LANGUAGES, detect_toolchains
from dsc_evals.models import BACKENDS, DTYPES, GenerationConfig, load_backend
from dsc_evals.report import table
from dsc_evals.runner import (
    GRADED_TASKS,
    KNOWN_TASKS,
    OWN_TASKS,
    RunConfig,
    expand_tasks,
    model_completer,
    reference_completer,
    run,
)
from dsc_evals.samples import samples_completer
from dsc_evals.sandbox import WEAK_FLAG


def _add_common(parser: argparse.ArgumentParser, default_tasks: str | None) -> None:
    if default_tasks is None:
        parser.add_argument("--task", required=True, choices=(*GRADED_TASKS, *OWN_TASKS))
    else:
        parser.add_argument(
            "--tasks",
            default=default_tasks,
            help=f"comma-separated: {', '.join(KNOWN_TASKS)}, humaneval-multi, crosscodeeval,"
            " all (the published benchmarks)",
        )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="local benchmark files (default: $DSC_BENCHMARKS_DIR, else download)",
    )
    parser.add_argument("--limit", type=int, default=None, help="first N problems of each task")
    parser.add_argument(
        "--isolation",
        choices=[m.value for m in Isolation],
        default="auto",
        help="auto: bubblewrap, or an error (evals/README.md says what each mode isolates)",
    )
    parser.add_argument(
        WEAK_FLAG,
        dest="allow_weak_isolation",
        action="store_true",
        help="allow --isolation unshare or rlimits, which do not isolate the file system",
    )
    parser.add_argument("--workers", type=int, default=0, help="parallel programs (0: all cores)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per program run")
    parser.add_argument("--timeout-multiplier", type=float, default=1.0)
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter that runs Python programs (default: this one)",
    )
    parser.add_argument("--k", default="1,10,100", help="pass@k values")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dsc_evals", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run_cmd = commands.add_parser("run", help="score a model")
    run_cmd.add_argument("--model", required=True, help="model directory or endpoint URL")
    run_cmd.add_argument("--backend", choices=BACKENDS, default="auto")
    run_cmd.add_argument("--model-name", default=None, help="endpoint model id (default: first)")
    run_cmd.add_argument("--device", default="cpu", help="local models: torch device (cuda, cpu)")
    run_cmd.add_argument("--dtype", choices=DTYPES, default="float32", help="local models")
    _add_common(run_cmd, "all")
    run_cmd.add_argument("--max-new-tokens", type=int, default=512)
    run_cmd.add_argument("--temperature", type=float, default=0.0)
    run_cmd.add_argument("--top-p", type=float, default=0.95)
    run_cmd.add_argument("--n", type=int, default=1, help="samples per problem")
    run_cmd.add_argument("--seed", type=int, default=0)
    run_cmd.add_argument("--batch-size", type=int, default=8)
    fim = FimFormat()
    run_cmd.add_argument("--fim-begin", default=fim.begin)
    run_cmd.add_argument("--fim-hole", default=fim.hole)
    run_cmd.add_argument("--fim-end", default=fim.end)
    run_cmd.add_argument(
        "--bpb-files",
        type=Path,
        nargs="*",
        default=[],
        help="held-out code files for bits per byte",
    )

    check = commands.add_parser("selfcheck", help="score the reference solutions")
    _add_common(check, "humaneval,mbpp,infilling-single-line,humaneval-infilling")

    score = commands.add_parser(
        "score", help="score completions made elsewhere (human-eval's task_id/completion JSONL)"
    )
    score.add_argument("--samples", type=Path, required=True, help="JSON lines of samples")
    _add_common(score, None)

    setup = commands.add_parser("setup", help="build a task's own Python runtime from PyPI")
    setup.add_argument("runtime", choices=["ds1000"])
    setup.add_argument(
        "--dir", type=Path, default=runtime_dir(), help="where (default: %(default)s)"
    )

    crossfile = commands.add_parser("crossfile", help="our cross-file completion benchmark")
    crossfile_commands = crossfile.add_subparsers(dest="action", required=True)
    make = crossfile_commands.add_parser(
        "build", help="build it from repositories (one per subdirectory of --repos)"
    )
    make.add_argument("--repos", type=Path, required=True, help="directory of repositories")
    make.add_argument("--out", type=Path, required=True, help="JSON lines file to write")
    make.add_argument("--only", default="", help="comma-separated repository names (default: all)")
    defaults = crossfile_build.BuildConfig()
    make.add_argument("--per-file", type=int, default=defaults.per_file)
    make.add_argument("--seed", type=int, default=defaults.seed)

    commands.add_parser("toolchains", help="which languages can run here")
    return parser


def _exec_config(args: argparse.Namespace) -> ExecConfig:
    limits = Limits(timeout_s=args.timeout, timeout_multiplier=args.timeout_multiplier)
    return ExecConfig(
        isolation=Isolation(args.isolation),
        allow_weak_isolation=args.allow_weak_isolation,
        limits=limits,
        workers=args.workers,
        python=args.python,
    )


def _run_config(args: argparse.Namespace, **extra: object) -> RunConfig:
    tasks = (args.task,) if args.command == "score" else expand_tasks(args.tasks)
    return RunConfig(
        tasks=tasks,
        out=args.out,
        data_dir=data_dir_from_env(args.data_dir),
        execution=_exec_config(args),
        ks=tuple(int(k) for k in args.k.split(",")),
        limit=args.limit,
        **extra,  # type: ignore[arg-type]
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "setup":
        print(f"ds1000 runtime: {build(args.dir)}")
        return 0
    if args.command == "crossfile":
        config = crossfile_build.BuildConfig(per_file=args.per_file, seed=args.seed)
        only = tuple(name for name in args.only.split(",") if name)
        counts = crossfile_build.build(args.repos, args.out, config, only)
        for language, count in sorted(counts.items()):
            print(f"{language:10} {count}")
        print(f"{sum(counts.values())} completion points in {args.out}")
        return 0
    if args.command == "toolchains":
        for name, reason in detect_toolchains(["python", *LANGUAGES]).items():
            print(f"{name:8} {'ok' if reason is None else 'missing: ' + reason}")
        return 0
    if args.command == "selfcheck":
        summary = run(_run_config(args), reference_completer, None)
    elif args.command == "score":
        completer = samples_completer(args.samples, limited=args.limit is not None)
        summary = run(_run_config(args, extra={"samples": str(args.samples)}), completer, None)
    else:
        generation = GenerationConfig(
            max_new_tokens=args.max_new_tokens,
            temperature=args.temperature,
            top_p=args.top_p,
            n=args.n,
            seed=args.seed,
            batch_size=args.batch_size,
        )
        backend = load_backend(args.model, args.backend, args.model_name, args.device, args.dtype)
        config = _run_config(
            args,
            generation=generation,
            fim=FimFormat(args.fim_begin, args.fim_hole, args.fim_end),
            bpb_files=tuple(args.bpb_files),
            extra={"model": backend.name},
        )
        summary = run(config, model_completer(backend, generation, args.out), backend)
    print(f"isolation: {summary['isolation_detail']}")
    print(table(summary))
    print(f"per-sample records and summary.json in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
