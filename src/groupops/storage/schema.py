"""Every table of groupops: the shared ones, the sandbox's and each built-in feature's."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from groupops.storage.tables import metadata

TABLE_MODULES = (
    "groupops.platforms.sandbox.tables",
    "groupops.features.welcome.tables",
    "groupops.features.moderation.tables",
    "groupops.features.gate.tables",
    "groupops.features.checkin.tables",
    "groupops.features.points.tables",
)


def all_metadata() -> MetaData:
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
    return metadata
