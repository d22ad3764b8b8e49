"""`groupops serve` with a stored Telegram connection in webhook mode: the companion registers
the webhook with the (fake) Bot API, and the web app answers Telegram's posts on
/hooks/telegram/<bot> — with the secret header only."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from groupops.platforms.connections import live_companions
from groupops.platforms.telegram import TelegramConfig
from groupops.platforms.telegram.config import connect
from groupops.platforms.telegram.webhook import SECRET_HEADER
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from groupops.web import WebConfig, create_web_app
from tests.platforms.telegram.conftest import GROUP, TOKEN, fake_in_thread

SECRET = "serve-secret_0123456789"


def test_serve_mounts_the_webhook_of_a_stored_connection(database_url: str) -> None:
    update = {
        "update_id": 42,
        "message": {
            "message_id": 7,
            "date": int(time.time()),
            "chat": {"id": GROUP, "type": "supergroup", "title": "Study group"},
            "from": {"id": 501, "is_bot": False, "first_name": "Alice"},
            "text": "hello through serve",
        },
    }
    with fake_in_thread() as fake:
        fake.add_chat(GROUP, "Study group")
        db = make_engine(database_url)
        try:
            upgrade(db)
            connect(
                db,
                TelegramConfig(
                    TOKEN,
                    base_url=fake.base_url,
                    mode="webhook",
                    webhook_url="https://127.0.0.1:9/hooks/telegram/groupops_test_bot",
                    webhook_secret=SECRET,
                ),
                datetime.now(UTC),
            )
            companions = live_companions(db)
        finally:
            db.dispose()
        config = WebConfig(
            database_url=database_url, features=(), extensions=False, secret="s", groups=()
        )
        path = "/hooks/telegram/groupops_test_bot"
        with TestClient(create_web_app(config, companions=companions)) as client:
            deadline = time.monotonic() + 10
            while not fake.calls("setWebhook") and time.monotonic() < deadline:
                time.sleep(0.02)
            assert fake.calls("setWebhook")[0].params["secret_token"] == SECRET
            assert client.post(path, json=update).status_code == 401
            assert client.post(path, json=update, headers={SECRET_HEADER: "x"}).status_code == 403
            ok = client.post(path, json=update, headers={SECRET_HEADER: SECRET})
            assert ok.status_code == 200, ok.text
            again = client.post(path, json=update, headers={SECRET_HEADER: SECRET})
            assert again.status_code == 200  # Telegram re-posting: stored once
            # a long message (4096 characters, escaped) quoting another one, with entities: far
            # over the web chat's 64 KB, well under the webhook's 1 MB (QA platforms finding 8)
            message: dict[str, Any] = dict(update["message"])  # type: ignore[call-overload]
            long: dict[str, Any] = {**message, "message_id": 8, "text": "长" * 4096}
            long["reply_to_message"] = {**message, "text": "引" * 4096}
            long["entities"] = [{"type": "bold", "offset": i, "length": 1} for i in range(2000)]
            body = json.dumps({"update_id": 43, "message": long}).encode()
            assert 65_536 < len(body) < 1_000_000
            big = client.post(
                path,
                content=body,
                headers={SECRET_HEADER: SECRET, "content-type": "application/json"},
            )
            assert big.status_code == 200, big.text
            huge = client.post(
                path,
                content=b"{" + b" " * 1_000_001 + b"}",
                headers={SECRET_HEADER: SECRET, "content-type": "application/json"},
            )
            assert huge.status_code == 413
            other = client.post(
                "/hooks/telegram/someone_else", json=update, headers={SECRET_HEADER: SECRET}
            )
            assert other.status_code in (404, 405)
    from sqlalchemy import select

    from groupops.storage.tables import events

    db = make_engine(database_url)
    try:
        with db.connect() as conn:
            rows = conn.execute(
                select(events.c.text, events.c.event_id).where(
                    events.c.source == "telegram:groupops_test_bot"
                )
            ).all()
    finally:
        db.dispose()
    assert [(r.text, r.event_id) for r in rows] == [
        ("hello through serve", "42"),
        ("长" * 4096, "43"),
    ]
