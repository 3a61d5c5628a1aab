"""Engine-owned persistence in ``search-state/``: pickles of our own objects, snapshots.

Only the engine writes these files, so unpickling them is safe (they never hold user data).
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

STATE_FILE = "state.pkl"


def save_state(state_dir: Path, state: dict[str, Any]) -> None:
    """Atomically replace ``state_dir/state.pkl`` with ``state``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=".state.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        pickle.dump(state, handle)
    os.replace(tmp, state_dir / STATE_FILE)


def load_state(state_dir: Path) -> dict[str, Any] | None:
    """The last saved state, or ``None`` when the job never saved one."""
    path = state_dir / STATE_FILE
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        state = pickle.load(handle)
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold an engine state")
    return state


def snapshot_checkpoint(checkpoint: Any, target: Path) -> str:
    """Copy a Tune checkpoint into engine-owned ``target``; returns the target path.

    Local checkpoints are hard-linked file by file (cheap, and Tune deleting its copy
    cannot touch ours); others are downloaded. The copy appears atomically.
    """
    if target.exists():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        source = Path(checkpoint.path)
        if source.is_dir():
            for item in source.iterdir():
                _link_or_copy(item, tmp / item.name)
        else:
            checkpoint.to_directory(str(tmp))
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


def _link_or_copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def collect_snapshots(directory: Path, configs: list[dict[str, Any]]) -> None:
    """Delete the snapshots in ``directory`` that none of ``configs`` starts from."""
    keep = {Path(c["source"]).name for c in configs if c.get("source")}
    if directory.is_dir():
        for path in directory.iterdir():
            if path.name not in keep and not path.name.startswith("."):
                shutil.rmtree(path, ignore_errors=True)
