"""An action whose connection is not running: the deliverer raises the one definition in
engine.deadletters (NO_CONNECTION) with its value apart, as the adapters raise theirs
(df20bad), so the stored English is made from the very template error_words reads back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine import deadletters
from groupops.engine.app import App
from groupops.engine.deadletters import error_words, list_outbox
from groupops.engine.deliverer import Deliverer
from groupops.engine.outbox import queue_actions
from groupops.i18n import Catalogs
from groupops.platforms.sandbox.adapter import SANDBOX_CAPABILITIES


class Watched(Deliverer):
    """The real deliverer, keeping the errors it records."""

    errors: list[Exception]

    def _failed(
        self, oid: int, attempts: int, exc: Exception, retry_after: float | None, permanent: bool
    ) -> None:
        self.errors.append(exc)
        super()._failed(oid, attempts, exc, retry_after, permanent)


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def test_no_connection_is_raised_with_its_definition_stored_as_before(
    make_app: Callable[..., App], zh: Callable[[str], str]
) -> None:
    app = make_app(features=())
    with app.db.begin() as conn:
        # queued while the connection ran (it could send); it is gone when the action is due
        queue_actions(
            conn,
            [(Action(ActionKind.SEND, "ghost", "g1", text="hi"), None)],
            workspace_id=1,
            now=app.clock.now(),
            feature="welcome",
            capabilities_of=lambda _source: SANDBOX_CAPABILITIES,
        )
    deliverer = Watched(app.db, app.platforms, app.clock)
    deliverer.errors = []
    assert asyncio.run(deliverer.deliver_due()) == 0
    (exc,) = deliverer.errors
    assert isinstance(exc, PlatformError) and not exc.permanent
    assert exc.template is deadletters.NO_CONNECTION
    assert exc.params == {"source": "'ghost'"}
    (row,) = list_outbox(app.db, "pending")
    assert row["last_error"] == "PlatformError: no connection 'ghost' is running"
    assert error_words(row, zh) == "连接 'ghost' 没有在运行"
