"""The job directory (docs/internals.md "Job directory layout") and atomic file writes."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class JobLayout:
    """Paths inside one job directory; creates nothing by itself."""

    root: Path

    @property
    def stop_file(self) -> Path:
        return self.root / "STOP"

    @property
    def best_dir(self) -> Path:
        return self.root / "best"

    @property
    def best_json(self) -> Path:
        return self.best_dir / "current.json"

    def best_model(self, version: int) -> Path:
        return self.best_dir / f"v{version}" / "model.safetensors.zip"

    @property
    def trace(self) -> Path:
        return self.root / "trace.jsonl"

    @property
    def state_dir(self) -> Path:
        return self.root / "search-state"

    @property
    def models_dir(self) -> Path:
        """Scheduler-owned model snapshots (clone sources, resume points)."""
        return self.state_dir / "models"

    @property
    def ray_dir(self) -> Path:
        return self.root / "ray"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` so that a reader sees the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, allow_nan=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_line(path: Path, line: str) -> None:
    """Append one newline-terminated line and flush it to disk."""
    with path.open("a") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
