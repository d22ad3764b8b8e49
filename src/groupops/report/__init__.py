"""The report: ``groupops analyze FILE...`` -> ``report.html`` + ``metrics.json``.

* :func:`groupops.report.pipeline.analyze_files` imports (streaming) and analyses the files;
* :func:`groupops.report.html.render` turns the metrics into one self-contained page;
* :func:`write_report` writes both files, all or nothing.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from groupops.domain.errors import GroupopsError
from groupops.files import as_user_file
from groupops.i18n import N_, Catalogs

REPORT = "report.html"
METRICS = "metrics.json"

R_NOT_A_FOLDER = N_("it is not a folder")
R_NO_PERMISSION = N_("permission denied")
R_READ_ONLY = N_("the file system is read-only")
R_NO_SPACE = N_("no space left on the device")
R_CANNOT_CREATE = N_("the folder cannot be created there")
_REASONS = {
    errno.EEXIST: R_NOT_A_FOLDER,
    errno.ENOTDIR: R_NOT_A_FOLDER,
    errno.EACCES: R_NO_PERMISSION,
    errno.EPERM: R_NO_PERMISSION,
    errno.EROFS: R_READ_ONLY,
    errno.ENOSPC: R_NO_SPACE,
    errno.ENOENT: R_CANNOT_CREATE,
}


class OutputNotWritable(GroupopsError):
    """The report's folder (``--out``) cannot be made or written. ``reason`` is an untranslated
    catalogue message (or the system's own text for rarer errors)."""

    code = "output_not_writable"

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason, where=str(path))
        self.path = path
        self.reason = reason

    @classmethod
    def from_os_error(cls, path: Path, exc: OSError) -> OutputNotWritable:
        reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
        return cls(path, reason)


def check_out_dir(out_dir: Path) -> None:
    """Fail early, before any work, when ``out_dir`` plainly cannot hold the report: it is a
    file, or the nearest existing folder above it is a file or not writable. Creates nothing;
    :func:`write_report` still reports what only writing can find out."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputNotWritable(out_dir, R_NOT_A_FOLDER)
        if not os.access(out_dir, os.W_OK | os.X_OK):
            raise OutputNotWritable(out_dir, R_NO_PERMISSION)
        return
    parent = out_dir.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputNotWritable(out_dir, R_NOT_A_FOLDER)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputNotWritable(out_dir, R_NO_PERMISSION)


def _plain(value: Any) -> Any:
    """JSON-safe: datetimes as ISO 8601, NaN/inf as null, sets and tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _plain(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
        return _plain(value.tolist())
    return value


def metrics_json(metrics: Mapping[str, Any]) -> str:
    return json.dumps(_plain(metrics), ensure_ascii=False, indent=1, allow_nan=False)


def write_report(
    metrics: Mapping[str, Any],
    out_dir: Path,
    *,
    lang: str = "en",
    catalogs: Catalogs | None = None,
    files: Sequence[str] = (),
) -> tuple[Path, Path]:
    """Render and write ``report.html`` and ``metrics.json`` into ``out_dir``: both are built
    in full first and renamed into place only when both are ready."""
    from groupops.report.html import render

    plain = _plain(metrics)
    body_json = metrics_json(plain)
    body_html = render(plain, lang=lang, catalogs=catalogs, files=files)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputNotWritable.from_os_error(out_dir, exc) from exc
    written: list[tuple[Path, Path]] = []
    try:
        for name, body in ((METRICS, body_json), (REPORT, body_html)):
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", dir=str(out_dir))
            written.append((Path(tmp_name), out_dir / name))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            as_user_file(Path(tmp_name))
        for scratch, target in written:
            scratch.replace(target)
    except BaseException as exc:
        for scratch, _target in written:
            scratch.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputNotWritable.from_os_error(out_dir, exc) from exc
        raise
    return out_dir / REPORT, out_dir / METRICS
