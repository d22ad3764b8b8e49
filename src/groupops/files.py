"""Files groupops writes for the operator (reports, --events-out): readable as the user's umask
says, like any file they write themselves."""

from __future__ import annotations

import os
from pathlib import Path


def current_umask() -> int:
    """The process's umask (from /proc on Linux: setting it to read it back races with other
    threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def as_user_file(path: Path) -> None:
    """Give a file made by :func:`tempfile.mkstemp` (0600) the mode a file the user writes gets:
    the umask says who else may read the members' names and messages in it (a fixed 0644
    would show them to every local user)."""
    path.chmod(0o666 & ~current_umask())
