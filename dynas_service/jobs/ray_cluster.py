"""The Ray cluster the runners join: a configured address or one embedded local head.

The embedded head is started once with ``ray start --head`` (a daemon that outlives the
API process) and its GCS address is kept in ``<data_dir>/ray-address``; a restarted API
reuses it while it still answers. Nothing here calls ``ray stop`` (it would stop every
Ray on the machine).

Ray's GCS listens on every interface, and whoever can reach it can run code in the
cluster, so the embedded head demands Ray's token authentication: a random token in
``<data_dir>/ray-auth-token`` (mode 0600), handed to the runners by
:meth:`LocalRayHead.auth_env`. The API process itself never talks to the embedded head
through Ray (only a TCP reachability check).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

_log = logging.getLogger(__name__)
ADDRESS_FILE = "ray-address"
TOKEN_FILE = "ray-auth-token"


def split_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> ``("host", port)``; ValueError names a malformed address."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"a Ray GCS address looks like host:port, got {address=}")
    return host, int(port)


def gcs_reachable(address: str, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at the GCS address (cheap, no Ray import)."""
    try:
        host, port = split_address(address)
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def cluster_resources(address: str, timeout: float = 2.0) -> dict[str, float] | None:
    """Total resources of the alive nodes, or ``None`` if the cluster cannot be asked."""
    if not gcs_reachable(address):
        return None
    try:
        from ray._raylet import GcsClient  # type: ignore[attr-defined]  # GCS RPC, no driver

        nodes = GcsClient(address=address).get_all_node_info(timeout=timeout)
    except Exception:  # an unreachable or foreign cluster: unknown, not an error
        _log.warning("could not read the resources of the Ray cluster at %s", address)
        return None
    totals: dict[str, float] = {}
    for info in nodes.values():
        if info.state != 0:  # 0 = ALIVE
            continue
        for name, amount in info.resources_total.items():
            totals[name] = totals.get(name, 0.0) + float(amount)
    return totals


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ray_executable() -> str:
    beside = Path(sys.executable).parent / "ray"
    return str(beside) if beside.exists() else (shutil.which("ray") or "ray")


class LocalRayHead:
    """The embedded single-machine Ray head, started on first use (thread-safe)."""

    def __init__(self, data_dir: Path, num_cpus: int | None = None, niceness: int = 0) -> None:
        self._file = data_dir / ADDRESS_FILE
        self._token = data_dir / TOKEN_FILE
        self._num_cpus = num_cpus
        self._niceness = niceness
        self._lock = threading.Lock()

    def recorded_address(self) -> str | None:
        """The address in ``<data_dir>/ray-address``, if any."""
        try:
            return self._file.read_text().strip() or None
        except OSError:
            return None

    def ensure(self) -> str:
        """The GCS address of a live head, starting one if needed (takes seconds)."""
        with self._lock:
            address = self.recorded_address()
            if address and gcs_reachable(address):
                return address
            address = self._start()
            self._file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._file.with_suffix(".tmp")
            tmp.write_text(address + "\n")
            os.replace(tmp, self._file)
            return address

    def auth_env(self) -> dict[str, str]:
        """Environment that lets a Ray process (runner, worker) join the embedded head."""
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(self._ensure_token())}

    def _ensure_token(self) -> Path:
        """The head's token file, created once with a random token, readable by us only."""
        if not self._token.is_file():
            self._token.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._token.with_name(f".{self._token.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            os.replace(tmp, self._token)
        return self._token

    def stop(self) -> int:
        """Stop the recorded embedded head (only its own processes); returns how many.

        ``ray stop`` would end every Ray on the machine, so the head's processes are found
        by the GCS port they were started with. Callers make sure no runner still needs it.
        """
        with self._lock:
            address = self.recorded_address()
            if address is None:
                return 0
            _, port = split_address(address)
            stopped = _terminate_matching(port)
            self._file.unlink(missing_ok=True)
            return stopped

    def _start(self) -> str:
        port = free_port()
        command = [
            _ray_executable(),
            "start",
            "--head",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--disable-usage-stats",
            "--include-dashboard=false",
        ]
        if self._num_cpus is not None:
            command.append(f"--num-cpus={self._num_cpus}")
        if self._niceness and shutil.which("nice"):
            # Ray's workers inherit the raylet's priority: trials yield the CPU to the API.
            command = ["nice", "-n", str(self._niceness), *command]
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **self.auth_env(),
               # Runners prestart warm workers for their trials themselves
               # (engine/warm_workers.py); Ray's own prestart for the first driver would
               # start a second, unusable set (the job's runtime env, not the trials').
               "RAY_prestart_worker_first_driver": "false"}
        env.pop("RAY_AUTH_TOKEN", None)  # a token in our environment must not win over ours
        _log.info("starting the embedded Ray head: %s", " ".join(command))
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"ray start failed ({done.returncode}): {done.stderr[-2000:]}")
        return f"127.0.0.1:{port}"


def _terminate_matching(port: int, timeout: float = 10.0) -> int:
    """SIGTERM (then SIGKILL) the Ray processes of the cluster whose GCS port is ``port``.

    They name it as ``--gcs_server_port=<port>`` (the GCS) or ``...address=<ip>:<port>``
    (raylet, dashboard, monitors, workers; the ip is the node's, not always 127.0.0.1).
    """
    pids = [pid for pid in _ray_pids(port) if pid != os.getpid()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_exists(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def _ray_pids(port: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(_names_gcs_port(arg, port) for arg in args):
            found.append(int(entry.name))
    return found


def _names_gcs_port(arg: str, port: int) -> bool:
    if arg == f"--gcs_server_port={port}":
        return True
    return "address=" in arg and arg.endswith(f":{port}")


def _exists(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; its parent reaps it
