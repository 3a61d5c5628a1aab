"""Fetch a file once into the data directory, verified by its published MD5 checksum.

Standard library only (urllib). A download goes to a temporary file beside its destination
and is published with `os.replace` only after the checksum matches, so a reader never sees
a partial file; concurrent downloaders of the same file are serialized by a lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from dynas_service.data.dataset import DatasetError

TIMEOUT_SECONDS = 60.0
_CHUNK = 1 << 20


def md5_of(path: Path) -> str:
    """Hex MD5 of a file (integrity against the published checksums, not security)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_file(urls: Sequence[str], destination: Path, md5: str) -> Path:
    """Ensure ``destination`` exists, downloading it from the first working URL if missing.

    An existing file is trusted as is (it may have been placed there by hand). Raises
    `DatasetError` when every URL fails (e.g. no network) or the checksum does not match.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _locked(destination.parent / f".{destination.name}.lock"):
        if destination.is_file():
            return destination
        failures = []
        for url in urls:
            try:
                _download_verified(url, destination, md5)
                return destination
            except (urllib.error.URLError, OSError, ValueError) as error:
                failures.append(f"{url}: {error}")
    raise DatasetError(
        f"could not download {destination.name} ({'; '.join(failures)}). The machine may "
        f"have no internet access: place the file at {destination} by hand, or use a "
        "built-in dataset that needs no network (digits, puzzle8)"
    )


def _download_verified(url: str, destination: Path, md5: str) -> None:
    handle, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}-", dir=destination.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with (
            os.fdopen(handle, "wb") as out,
            urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response,
        ):
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch: got md5 {digest.hexdigest()}, expected {md5}")
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
