"""The page and the JSON API. Thin: each route calls one function of ``groupops.web.chat`` (in a
worker thread: it is synchronous SQL) and hands the resulting event to the App's live loop."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from groupops import __version__
from groupops.domain.errors import NotFound
from groupops.i18n import LANGUAGES, N_
from groupops.platforms.sandbox.platform import local_minute
from groupops.storage.db import LARGEST_ID
from groupops.web import chat
from groupops.web.clock import step_target
from groupops.web.errors import NotJoined, UnknownLine
from groupops.web.runtime import Runtime
from groupops.web.security import LANG_COOKIE, PERSON_COOKIE, language_of
from groupops.web.texts import texts

pages = APIRouter()
api = APIRouter(prefix="/api")

ChatId = Annotated[str, Path(min_length=1, max_length=255)]
#: a line's id: what the database holds (a larger number is a 422 naming the field, never a
#: query SQLite's driver cannot send)
LineId = Annotated[int, Field(ge=1, le=LARGEST_ID)]
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
ONE_YEAR = 365 * 24 * 3600


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=1000)


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    #: the id of the line answered, as text ("" for none)
    reply_to: str = Field(default="", max_length=19, pattern=r"^([1-9][0-9]*)?$")

    @field_validator("reply_to")
    @classmethod
    def _a_line_id(cls, value: str) -> str:
        if value and int(value) > LARGEST_ID:
            raise ValueError(f"Input should be less than or equal to {LARGEST_ID}")
        return value


class ReactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: LineId
    emoji: str = Field(default="👍", max_length=1000)


class AdminIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    admin: bool


class RenameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=1000)


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: an hour, a day, or to the start of the next month
    step: Literal["hour", "day", "month"]
    #: the group whose zone says where a month starts (UTC without one)
    chat_id: str | None = Field(default=None, min_length=1, max_length=255)


class PressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: LineId
    data: str = Field(min_length=1, max_length=200)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def viewer_of(request: Request) -> str | None:
    return runtime_of(request).person.read(request.cookies.get(PERSON_COOKIE))


# -- the page -------------------------------------------------------------------------------
@pages.get("/", response_class=HTMLResponse)
async def page(request: Request) -> Response:
    runtime = runtime_of(request)
    lang = language_of(request)
    ui = texts(runtime.catalogs.gettext(lang))
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "chat.html",
        {
            "lang": lang,
            "html_lang": lang.replace("_", "-"),
            "t": ui,
            "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES],
            "version": __version__,
            "movable_clock": runtime.clock_refusal() is None,
        },
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=ONE_YEAR,
            samesite="lax",
            httponly=True,
            secure=runtime.config.secure_cookies,
        )
    return response


# -- the API --------------------------------------------------------------------------------
@api.get("/groups")
async def groups(request: Request) -> dict[str, Any]:
    """The sandbox groups, their member counts and the caller's status in each."""
    runtime = runtime_of(request)
    rows = await run_in_threadpool(chat.list_groups, runtime.app.sandbox, viewer_of(request))
    return {"groups": rows}


@api.post("/groups/{chat_id}/join")
async def join(chat_id: ChatId, body: JoinIn, request: Request, response: Response) -> Any:
    """Join a group under a name; the browser gets its identity cookie on its first join."""
    runtime = runtime_of(request)
    name = chat.clean_name(body.name)
    viewer = viewer_of(request)
    if viewer is None:
        viewer, cookie = runtime.person.issue()
        response.set_cookie(
            PERSON_COOKIE,
            cookie,
            max_age=ONE_YEAR,
            httponly=True,
            samesite="strict",
            secure=runtime.config.secure_cookies,
        )
    event = await run_in_threadpool(chat.join, runtime.app.sandbox, chat_id, viewer, name)
    if event is not None:
        await runtime.app.commit(event)  # stored before the person is told
    me = await run_in_threadpool(
        chat.me_in, runtime.app.sandbox, chat_id, viewer, runtime.app.clock.now()
    )
    return {"chat_id": chat_id, "joined": event is not None, "me": me.to_json()}


@api.post("/groups/{chat_id}/messages")
async def post(chat_id: ChatId, body: PostIn, request: Request) -> dict[str, Any]:
    """Post a message. A muted, removed or banned person gets 403 with the platform's reason."""
    runtime = runtime_of(request)
    viewer = _joined(request, chat_id)
    text = chat.clean_text(body.text)
    await run_in_threadpool(chat.require_chat, runtime.app.sandbox, chat_id)
    try:
        event = await run_in_threadpool(
            runtime.app.sandbox.post,
            chat_id,
            viewer,
            text,
            reply_to=body.reply_to,
            as_member=True,
        )
    except NotFound as exc:  # no line of this group by that id, or one removed
        raise UnknownLine(exc.template, field="reply_to", where=chat_id, **exc.params) from None
    await runtime.app.commit(event)  # stored before the person is told
    return {"id": int(event.message_id)}


@api.post("/groups/{chat_id}/leave")
async def leave(chat_id: ChatId, request: Request) -> dict[str, Any]:
    runtime = runtime_of(request)
    viewer = _joined(request, chat_id)
    await run_in_threadpool(chat.require_chat, runtime.app.sandbox, chat_id)
    event = await run_in_threadpool(runtime.app.sandbox.leave, chat_id, viewer)
    await runtime.app.commit(event)  # stored before the person is told
    return {"chat_id": chat_id, "left": True}


@api.post("/groups/{chat_id}/buttons")
async def press(chat_id: ChatId, body: PressIn, request: Request) -> dict[str, Any]:
    """Press one of the buttons under a bot's message (the join gate asks this way)."""
    runtime = runtime_of(request)
    viewer = _joined(request, chat_id)
    event = await run_in_threadpool(
        runtime.app.sandbox.press, chat_id, viewer, str(body.message_id), body.data
    )
    await runtime.app.commit(event)  # stored before the person is told
    return {"pressed": body.data}


@api.post("/groups/{chat_id}/reactions")
async def react(chat_id: ChatId, body: ReactIn, request: Request) -> dict[str, Any]:
    """React to a line (👍 by default): the author earns points' reaction_points."""
    runtime = runtime_of(request)
    viewer = _joined(request, chat_id)
    emoji = chat.clean_emoji(body.emoji)
    await run_in_threadpool(chat.require_chat, runtime.app.sandbox, chat_id)
    try:
        event = await run_in_threadpool(
            lambda: runtime.app.sandbox.react(
                chat_id, viewer, str(body.message_id), emoji, as_member=True
            )
        )
    except NotFound as exc:
        raise UnknownLine(exc.template, field="message_id", where=chat_id, **exc.params) from None
    await runtime.app.commit(event)  # stored before the person is told
    return {"message_id": body.message_id, "emoji": emoji}


@api.delete("/groups/{chat_id}/reactions/{message_id}")
async def take_back(
    chat_id: ChatId,
    message_id: Annotated[int, Path(ge=1, le=LARGEST_ID)],
    request: Request,
    emoji: Annotated[str, Query(max_length=1000)] = "👍",
) -> dict[str, Any]:
    """Take back your reaction to a line (👍 by default), as Telegram and Matrix let people do:
    the engine gets a reaction taken back. Taking back one you have not given changes
    nothing (``removed`` is false)."""
    runtime = runtime_of(request)
    viewer = _joined(request, chat_id)
    emoji = chat.clean_emoji(emoji)
    await run_in_threadpool(chat.require_chat, runtime.app.sandbox, chat_id)
    try:
        event = await run_in_threadpool(
            runtime.app.sandbox.unreact, chat_id, viewer, str(message_id), emoji
        )
    except NotFound as exc:
        raise UnknownLine(exc.template, field="message_id", where=chat_id, **exc.params) from None
    if event is not None:
        await runtime.app.commit(event)  # stored before the person is told
    return {"message_id": message_id, "emoji": emoji, "removed": event is not None}


@api.post("/groups/{chat_id}/admin")
async def make_admin(chat_id: ChatId, body: AdminIn, request: Request) -> dict[str, Any]:
    """Make yourself an admin of the group, or no longer one (to try what admins are spared)."""
    runtime = runtime_of(request)
    viewer = _joined(request, chat_id)
    sandbox = runtime.app.sandbox
    await run_in_threadpool(chat.require_chat, sandbox, chat_id)
    await run_in_threadpool(sandbox.set_admin, chat_id, viewer, body.admin)
    me = await run_in_threadpool(chat.me_in, sandbox, chat_id, viewer, runtime.app.clock.now())
    return {"chat_id": chat_id, "me": me.to_json()}


@api.post("/groups/{chat_id}/rename")
async def rename(chat_id: ChatId, body: RenameIn, request: Request) -> dict[str, Any]:
    """Rename the group, as an admin of it (as on Telegram and Matrix): the engine's group
    takes the new name (a ``group_updated`` event). The same name again changes nothing
    (``renamed`` is false)."""
    runtime = runtime_of(request)
    viewer = _joined(request, chat_id)
    title = chat.clean_title(body.title)
    sandbox = runtime.app.sandbox
    await run_in_threadpool(chat.require_chat, sandbox, chat_id)
    event = await run_in_threadpool(sandbox.rename, chat_id, viewer, title)
    if event is not None:
        await runtime.app.commit(event)  # stored before the person is told
    return {"chat_id": chat_id, "title": title, "renamed": event is not None}


@api.get("/clock")
async def clock(request: Request) -> dict[str, Any]:
    """The engine's time, and whether it can be moved (with the reason when not)."""
    runtime = runtime_of(request)
    refusal = runtime.clock_refusal()
    gettext = runtime.catalogs.gettext(language_of(request))
    return {
        "now": runtime.app.clock.now().isoformat(),
        "movable": refusal is None,
        "refused": None if refusal is None else refusal.localized_message(gettext),
    }


@api.post("/clock/advance")
async def advance(body: AdvanceIn, request: Request) -> dict[str, Any]:
    """Move the clock forward (only under ``groupops serve --movable-clock``) and run the
    scheduled work that falls due, as after a pause: one clock tick at the new time."""
    runtime = runtime_of(request)
    moving = runtime.movable_clock()
    zone = "UTC"
    if body.chat_id is not None:
        await run_in_threadpool(chat.require_chat, runtime.app.sandbox, body.chat_id)
        zone = await run_in_threadpool(runtime.app.sandbox.zone, body.chat_id)
    before = moving.now()
    now = moving.advance(step_target(before, body.step, zone) - before)
    runtime.app.engine.tick()  # on the event loop, between batches, as the ticker does
    return {
        "now": now.isoformat(),
        "now_local": local_minute(now, zone),
        "zone": zone,
        "moved_seconds": int((now - before).total_seconds()),
    }


@api.get("/groups/{chat_id}/messages")
async def messages(
    chat_id: ChatId,
    request: Request,
    after: Annotated[int | None, Query(ge=0, le=LARGEST_ID)] = None,
    since: Annotated[int, Query(ge=0, le=LARGEST_ID)] = 0,
    quoted: Annotated[
        list[Annotated[int, Field(ge=1, le=LARGEST_ID)]], Query(max_length=chat.QUOTED_LIMIT)
    ] = [],  # noqa: B006 (FastAPI copies a Query's default)
) -> dict[str, Any]:
    """Lines after ``after`` (the latest ones when absent), ids of lines in ``(since, after]``
    removed meanwhile (and of the ``quoted`` lines older than those), and the caller's status.
    The page asks twice a second."""
    runtime = runtime_of(request)
    return await run_in_threadpool(
        lambda: chat.poll(
            runtime.app.sandbox,
            chat_id,
            viewer_of(request),
            after=after,
            since=since,
            now=runtime.app.clock.now(),
            quoted=quoted,
        )
    )


@api.get("/groups/{chat_id}/history")
async def history(
    chat_id: ChatId,
    request: Request,
    before: Annotated[int, Query(ge=1, le=LARGEST_ID)],
    to: Annotated[int, Query(ge=1, le=LARGEST_ID)],
) -> dict[str, Any]:
    """The older lines a page loads to show line ``to`` (a reply's quote clicked): those
    below ``before`` down to it, a page at a time."""
    runtime = runtime_of(request)
    return await run_in_threadpool(
        lambda: chat.older(runtime.app.sandbox, chat_id, viewer_of(request), before=before, to=to)
    )


def _joined(request: Request, chat_id: str) -> str:
    viewer = viewer_of(request)
    if viewer is None:
        raise NotJoined(N_("join the group first: this browser has not joined any"), where=chat_id)
    return viewer


__all__ = ["api", "pages"]
