"""The report: ``groupops analyze FILE...`` -> ``report.html`` + ``metrics.json``.

* :func:`groupops.report.pipeline.analyze_files` imports (streaming) and analyses the files;
* :func:`groupops.report.html.render` turns the metrics into one self-contained page;
* :func:`write_report` writes both files, all or nothing.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from groupops.i18n import Catalogs

REPORT = "report.html"
METRICS = "metrics.json"


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
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, Path]] = []
    try:
        for name, body in ((METRICS, body_json), (REPORT, body_html)):
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", dir=str(out_dir))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            Path(tmp_name).chmod(0o644)
            written.append((Path(tmp_name), out_dir / name))
    except BaseException:
        for scratch, _target in written:
            scratch.unlink(missing_ok=True)
        raise
    for scratch, target in written:
        scratch.replace(target)
    return out_dir / REPORT, out_dir / METRICS
