"""Write a file so that readers see either the old content or the new, never a partial file.

The data goes to a hidden temporary file in the target's own directory (so ``os.replace``
stays on one file system), is flushed and fsynced, then renamed over the target.  On any
failure the temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, creating missing parent directories.

    The new file gets the permissions a plain ``open(path, "wb")`` would give it
    (``0o666`` minus the umask).  Raises ``OSError`` when the directory cannot be created
    or written, or when ``path`` is an existing directory.
    """
    target = Path(path)
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
