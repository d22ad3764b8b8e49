"""The sandbox web chat: a page where a person joins a sandbox group under a name, types, and
sees the bot's replies and moderation live; its JSON API; and ``groupops serve``.

``create_web_app(config)`` builds the FastAPI application (its lifespan creates, starts and stops
the App); ``groupops.web.server.serve(config)`` runs it with uvicorn.
"""

from groupops.web.app import create_web_app
from groupops.web.config import WebConfig

__all__ = ["WebConfig", "create_web_app"]
