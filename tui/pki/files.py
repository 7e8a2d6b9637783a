"""Writing keys and certificates: atomic, private, durable.

``write_file`` writes a temporary file in the target folder (mode set before any byte is written), fsyncs
it, renames it over the target and fsyncs the folder, so after it returns the file survives a crash or a
kill of the process, and a crash during the write leaves the old file (or none), never half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from tui.durable import fsync_dir
from tui.pki.errors import FileWriteError

PRIVATE_FILE = 0o600
PUBLIC_FILE = 0o644
PRIVATE_DIR = 0o700


def ensure_dir(folder: Path, mode: int = PRIVATE_DIR) -> Path:
    """Create ``folder`` (and parents) when missing with ``mode``; an existing folder of ours that is more
    open than ``mode`` is tightened. ``FileWriteError`` when it cannot be created."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=mode)
        info = folder.stat()
    except FileExistsError:
        raise FileWriteError(f"{folder} exists and is not a folder") from None
    except OSError as exc:
        raise FileWriteError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise FileWriteError(f"{folder} exists and is not a folder")
    if info.st_mode & 0o777 & ~mode and info.st_uid == os.getuid():
        with contextlib.suppress(OSError):
            os.chmod(folder, mode)
    return folder


def write_file(path: Path, data: bytes, *, mode: int = PRIVATE_FILE, overwrite: bool = True) -> Path:
    """Atomically write ``data`` to ``path`` with ``mode`` (0600 by default), durable on return.

    ``overwrite=False`` refuses an existing file (``FileWriteError``) so nothing is lost.
    """
    folder = path.parent
    if not folder.is_dir():
        raise FileWriteError(f"the folder {folder} does not exist")
    if not overwrite and path.exists():
        raise FileWriteError(f"{path} already exists; choose another folder or name")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise FileWriteError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if not overwrite:
            # Never replace a file that appeared meanwhile: link fails when the name exists.
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                raise
            except OSError:  # no hard links on this file system: check, then rename
                if path.exists():
                    raise FileExistsError(str(path)) from None
                os.replace(tmp_name, path)
            else:
                os.unlink(tmp_name)
        else:
            os.replace(tmp_name, path)
    except FileExistsError:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise FileWriteError(f"{path} already exists; choose another folder or name") from None
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise FileWriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_dir(folder)
    return path


def check_writable(folder: Path, names: list[str], *, overwrite: bool = False) -> None:
    """Make sure files ``names`` can be created in ``folder`` (created 0700 when missing) before anything
    irreversible happens; ``FileWriteError`` otherwise."""
    ensure_dir(folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileWriteError(f"the folder {folder} is not writable")
    if not overwrite:
        existing = [n for n in names if (folder / n).exists()]
        if existing:
            raise FileWriteError(
                f"{folder / existing[0]} already exists; choose another folder or remove it first"
            )
