"""Throwaway services on loopback for the tests (and the benchmark).

Each `start_*` function starts one real server on 127.0.0.1 at a free port,
in a temporary directory, and returns a `Service` whose `stop()` ends it by
its pid. Nothing here is a mock: PostgreSQL, redis-server, an SMTP sink,
Celery workers and gunicorn are the programs the product runs in production,
started through the same `bin/` scripts as docker-compose.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Service:
    name: str
    pid: int
    port: int | None = None
    url: str = ""
    workdir: str | None = None
    proc: subprocess.Popen | None = None
    stop_command: list[str] | None = None
    extra: dict = field(default_factory=dict)

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.stop_command:
            subprocess.run(self.stop_command, check=False, capture_output=True, timeout=timeout + 5)
        elif self.alive():
            try:
                os.killpg(self.pid, sig) if self.extra.get("group") else os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            if self.proc is not None:
                self.proc.poll()
            time.sleep(0.05)
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.workdir and not self.extra.get("keep_workdir"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise FileNotFoundError(f"PostgreSQL's {name} was not found (apt-get install postgresql)")


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start_postgres() -> Service:
    """A new PostgreSQL cluster in a temporary directory, trust auth on 127.0.0.1 only."""
    workdir = tempfile.mkdtemp(prefix="portal-pg-")
    os.chmod(workdir, 0o755)
    data, sockets = os.path.join(workdir, "data"), os.path.join(workdir, "run")
    os.makedirs(sockets)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        _as_postgres([_pg_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_postgres([_pg_bin("pg_ctl"), "-D", data, "-o", options, "-l", os.path.join(workdir, "log"), "-w", "start"]),
        check=True,
        capture_output=True,
        timeout=60,
    )
    pid = int(Path(data, "postmaster.pid").read_text().split()[0])
    return Service(
        "postgres",
        pid,
        port,
        url=f"postgres://postgres@127.0.0.1:{port}/postgres",
        workdir=workdir,
        stop_command=_as_postgres([_pg_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]),
    )


def start_redis() -> Service:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise FileNotFoundError("redis-server was not found (apt-get install redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="portal-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc=proc)
    return Service("redis", proc.pid, port, url=f"redis://127.0.0.1:{port}/0", workdir=workdir, proc=proc)


def start_smtp_sink(delay: float = 0.0) -> Service:
    """aiosmtpd writing each message to a maildir-like folder (tests read the files).
    With `delay`, a slow server: each message is accepted `delay` seconds after its DATA."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="portal-smtp-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.smtp_sink", "--port", str(port), "--dir", workdir, "--delay", str(delay)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc=proc)
    return Service("smtp", proc.pid, port, url=f"smtp://127.0.0.1:{port}", workdir=workdir, proc=proc)


def read_sink(service: Service) -> list[dict]:
    """Messages the sink received, oldest first."""
    import email
    from email import policy

    messages = []
    for path in sorted(Path(service.workdir).glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        messages.append(
            {"to": msg["To"], "subject": msg["Subject"], "body": msg.get_body(("plain",)).get_content().strip()}
        )
    return messages


def run_script(name: str, env: dict, port: int | None = None, log: str | None = None) -> Service:
    """Start one of the repo's bin/ scripts (the same ones compose runs) in its own process group."""
    full_env = {**os.environ, **env}
    out = open(log, "ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [str(ROOT / "bin" / name)], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    if port is not None:
        wait_for_port(port, timeout=60, proc=proc)
    return Service(name, proc.pid, port, proc=proc, extra={"group": True})
