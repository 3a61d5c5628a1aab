"""Is a job's runner alive? Answers for children of this process and for orphans alike.

A runner is identified by its pid plus a *token*: the process start time from
``/proc/<pid>/stat``, so a recycled pid is never mistaken for the runner. Without
``/proc`` (not Linux) a signal-0 probe decides.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def process_token(pid: int) -> str | None:
    """The start time of ``pid`` (clock ticks since boot) or ``None`` if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19] if len(fields) > 19 else None  # field 22 of stat: starttime


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def runner_alive(
    pid: int | None, token: str | None = None, child: subprocess.Popen | None = None
) -> bool:
    """Whether the process ``pid`` (started at ``token``, if given) still runs.

    A child of this process is asked through its `Popen` (which also reaps it).
    """
    if pid is None:
        return False
    if child is not None and child.pid == pid:
        return child.poll() is None
    if Path("/proc/self/stat").exists():
        state = _state(pid)
        if state is None or state in ("Z", "X"):
            return False
        return token is None or process_token(pid) == token
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
