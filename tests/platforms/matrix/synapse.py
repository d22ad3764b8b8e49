"""A real Synapse homeserver on 127.0.0.1, for the tests and the bench.

Synapse is AGPL: it is never a dependency of groupops. ``make synapse`` (run by ``make test``)
installs it into its own virtual environment, ``.cache/synapse-venv``; this module only starts
the ``synapse.app.homeserver`` of that environment as a separate process, with a generated
config: SQLite, no federation, registration through the shared secret only, presence and URL
previews off, and the rate limits the caller asks for.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
SYNAPSE_VENV = Path(os.environ.get("GROUPOPS_SYNAPSE_VENV", REPO / ".cache" / "synapse-venv"))
SYNAPSE_PYTHON = SYNAPSE_VENV / "bin" / "python"
SERVER_NAME = "groupops.test"

#: generous limits: the suite and the bench are not slowed down by Synapse's anti-spam
RELAXED = {"per_second": 1000, "burst_count": 1000}


def synapse_available() -> str | None:
    """None when Synapse can be started, else the reason it cannot."""
    if not SYNAPSE_PYTHON.exists():
        return f"no Synapse virtual environment at {SYNAPSE_VENV} (run `make synapse`)"
    probe = subprocess.run(
        [str(SYNAPSE_PYTHON), "-c", "import synapse.app.homeserver"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        return f"Synapse in {SYNAPSE_VENV} does not import: {probe.stderr.strip()[-300:]}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Synapse:
    """One homeserver process. ``start()`` returns once the client API answers."""

    directory: Path
    rc_message: dict[str, float] = field(default_factory=lambda: dict(RELAXED))
    port: int = 0
    shared_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "homeserver.log"

    def _config(self) -> dict[str, Any]:
        d = self.directory
        relaxed = {"per_second": 1000, "burst_count": 1000}
        return {
            "server_name": SERVER_NAME,
            "pid_file": str(d / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(d / "homeserver.db")}},
            "log_config": str(d / "log.config"),
            "media_store_path": str(d / "media"),
            "signing_key_path": str(d / "signing.key"),
            "registration_shared_secret": self.shared_secret,
            "enable_registration": False,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "enable_metrics": False,
            "rc_message": dict(self.rc_message),
            "rc_login": {
                "address": relaxed,
                "account": relaxed,
                "failed_attempts": relaxed,
            },
            "rc_registration": relaxed,
            "rc_joins": {"local": relaxed, "remote": relaxed},
            "rc_joins_per_room": relaxed,
            "rc_invites": {
                "per_room": relaxed,
                "per_user": relaxed,
                "per_issuer": relaxed,
            },
            "rc_admin_redaction": relaxed,
            "rc_room_creation": relaxed,
            "rc_3pid_validation": relaxed,
            "rc_delayed_event_mgmt": relaxed,
        }

    def _log_config(self) -> str:
        return (
            "version: 1\n"
            "formatters:\n  precise:\n"
            "    format: '%(asctime)s %(name)s %(levelname)s %(message)s'\n"
            "handlers:\n  file:\n    class: logging.FileHandler\n    formatter: precise\n"
            f"    filename: {self.log_path}\n"
            "root:\n  level: WARNING\n  handlers: [file]\n"
            "loggers:\n  synapse.access.http:\n    level: INFO\n"
            "disable_existing_loggers: false\n"
        )

    def start(self, timeout: float = 60.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        config = self.directory / "homeserver.yaml"
        config.write_text(json.dumps(self._config(), indent=1))  # JSON is YAML
        (self.directory / "log.config").write_text(self._log_config())
        out = open(self.directory / "stdout.log", "wb")  # noqa: SIM115 - the process keeps it
        self.process = subprocess.Popen(
            [str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "-c", str(config)],
            cwd=self.directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SYNAPSE_ASYNC_IO_REACTOR": "0"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.directory / "stdout.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Synapse exited with {self.process.returncode}: {tail}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Synapse did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    # -- accounts --------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None, token: str = "") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")

    def register(self, localpart: str, password: str, *, admin: bool = False) -> str:
        """Create an account through the shared-secret admin API; returns the full user id."""
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        digest = hmac.new(
            self.shared_secret.encode(),
            b"\x00".join(
                p.encode() for p in (nonce, localpart, password, "admin" if admin else "notadmin")
            ),
            hashlib.sha1,
        ).hexdigest()
        answer = self._request(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": digest,
            },
        )
        return str(answer["user_id"])

    def requests_seen(self, path_part: str, method: str = "PUT") -> int:
        """How many requests whose path contains ``path_part`` Synapse logged (access log)."""
        if not self.log_path.exists():
            return 0
        needle = f"{method} {path_part}"
        return sum(
            1 for line in self.log_path.read_text(errors="replace").splitlines() if needle in line
        )
