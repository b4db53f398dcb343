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
import uuid
from pathlib import Path

import pytest

from dsc_evals.config import Isolation
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
    base = engine.config.sandbox_uid_base
    uids = range(base, base + engine.config.worker_count)
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


def test_killing_the_parent_is_a_sandbox_violation_and_the_engine_recovers(engine):
    result = run_one(engine, "python", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
    assert result.outcome is Outcome.SANDBOX_VIOLATION
    [after] = engine.run([Program("python", "print('alive')")])
    assert after.outcome is Outcome.PASSED


def test_killing_every_process_it_can_signal(engine):
    # kill(-1) outside a pid namespace would hit every process of the harness's user.
    require(engine, Isolation.BWRAP, Isolation.UNSHARE)
    result = run_one(engine, "python", "import os, signal\nos.kill(-1, signal.SIGKILL)\n")
    assert result.outcome is Outcome.SANDBOX_VIOLATION
    run_one(engine, "sh", "kill -9 -1\nkill -9 $PPID\nexit 0\n")


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
