"""The /news slash command on Slack: Slack's text into the shared command service, its reply back.

Slack sends a slash command's text as typed, except that ``&``, ``<`` and ``>`` arrive entity-escaped
and mentions and links arrive as ``<!subteam^S123|@desk>``, ``<@U123|name>``, ``<https://x|x>``. Quotes
and query operators are left alone, so ``subscribe "NATO summit" OR OTAN -football`` reaches the query
parser exactly as typed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import CommandError
from bot.core.models import ChannelRef, Mode, mode_named
from handlers.actions import run_action
from handlers.commands import CommandService, Invocation, PlatformWords
from handlers.help import HelpUsage
from handlers.replies import BUTTON_ID, Reply

log = logging.getLogger(__name__)

PLATFORM = "slack"
GENERIC_ERROR = "Something went wrong running that command; the details are in the bot's log."
ADMIN_AWARE = frozenset({"feeds", "mute", "digest", "timezone"})
"""Commands whose outcome may depend on the user being an admin (and ``subscribe`` with a user group);
only these cost a users.info call."""

_SUBTEAM = re.compile(r"\s*<!subteam\^(S[A-Z0-9]+)(?:\|[^<>]*)?>\s*$")
_LINK = re.compile(r"<((?:https?|mailto):[^<>|]+)(?:\|[^<>]*)?>")


def unescape(text: str) -> str:
    """Slack's escaped command text as typed: ``<https://x|x>`` -> ``https://x``; entities decoded."""
    text = _LINK.sub(lambda m: m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True, slots=True)
class SubscribeArgs:
    query: str
    mention: str = ""
    mode: Mode = "instant"
    thread: bool = False


def parse_subscribe(rest: str) -> SubscribeArgs:
    """``<query> [<!subteam^ID|@name>] [instant|hourly|daily] [thread]`` (the options in any order, at
    the end). ``rest`` is still Slack-escaped: the user group is found before entities are decoded."""
    rest = rest.strip()
    mention, thread = "", False
    mode: Mode = "instant"
    for _ in range(3):
        if not mention and (match := _SUBTEAM.search(rest)):
            mention, rest = match.group(1), rest[: match.start()].rstrip()
            continue
        head, _, last = rest.rpartition(" ")
        if mode == "instant" and head and (typed := mode_named(last)) is not None:
            mode, rest = typed, head.rstrip()
        elif not thread and head and last.lower() == "thread":
            thread, rest = True, head.rstrip()
    return SubscribeArgs(unescape(rest), mention, mode, thread)


def clicked_in(body: dict[str, Any]) -> str:
    """The channel of a ``block_actions`` payload: its ``channel``, or the message's container."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return str(channel or "")


AdminCheck = Callable[[str, AsyncWebClient], Awaitable[bool]]
"""Whether a user (by id) is an admin, asked with the client of the request's workspace."""


SLACK_USAGE = HelpUsage(
    subscribe="/news subscribe <query> [@group] [hourly|daily] [thread]",
    subscribe_what=(
        "alert this channel about articles matching the query. Options, at the end: a user group to "
        "mention with each alert (admins); hourly or daily for a digest instead of each alert; thread to "
        "post the day's alerts in one thread"
    ),
    buttons=", each with a button to remove it",
)


def slack_words(admin_group: str) -> PlatformWords:
    """Who may change what a whole channel gets, as Slack calls them."""
    admins = "workspace admins or members of the admin user group" if admin_group else "workspace admins"
    return PlatformWords(admins=admins, group="user group", usage=SLACK_USAGE)


class SlackAdmins:
    """Whether a Slack user may change what a whole channel gets: a workspace admin or owner (users.info),
    or a member of the configured user group (usergroups.users.list), asked with the client bolt
    authorised for the request's workspace. An API failure counts as "no" and is logged."""

    def __init__(self, admin_group: str = "") -> None:
        self.admin_group = admin_group

    async def __call__(self, user_id: str, client: AsyncWebClient) -> bool:
        try:
            info = await client.users_info(user=user_id)
            user: dict[str, Any] = info.get("user") or {}
            if user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"):
                return True
            if self.admin_group:
                members = await client.usergroups_users_list(usergroup=self.admin_group)
                return user_id in (members.get("users") or [])
        except SlackApiError as exc:
            log.warning(
                "slack: could not tell whether %s is an admin: %s", user_id, exc.response.get("error")
            )
        return False


class SlashCommands:
    """Runs one /news invocation. Errors stop here, in one layer: a :class:`CommandError` is shown to
    the user as is; anything else is logged with its traceback and the user gets a generic message."""

    def __init__(self, service: CommandService, is_admin: AdminCheck, words: PlatformWords) -> None:
        self.service = service
        self.is_admin = is_admin
        self.words = words

    async def run(self, command: dict[str, Any], client: AsyncWebClient) -> Reply:
        text = str(command.get("text") or "").strip()
        try:
            return await self._run(command, text, client)
        except CommandError as exc:
            return Reply(str(exc))
        except Exception:
            log.exception("slack /news %r in %s failed", text, command.get("channel_id"))
            return Reply(GENERIC_ERROR)

    async def press(self, body: dict[str, Any], client: AsyncWebClient) -> Reply:
        """A reply's button was clicked (a ``block_actions`` payload): its action runs as the typed
        command would (``action_id`` ``news:<action>:<key>``), admin check included. Errors stop here too."""
        action = (body.get("actions") or [{}])[0]
        clicked = BUTTON_ID.fullmatch(str(action.get("action_id") or ""))
        name, key = (clicked["action"], clicked["key"]) if clicked else ("", "")  # "": a button gone
        try:
            user = str((body.get("user") or {}).get("id") or "")
            channel = ChannelRef(
                platform=PLATFORM,
                channel_id=clicked_in(body),
                workspace_id=str((body.get("team") or {}).get("id") or ""),
            )
            admin = name == "feeds-remove" and bool(user) and await self.is_admin(user, client)
            invocation = Invocation(channel, user=user, is_admin=admin, words=self.words)
            return await run_action(self.service, invocation, name, key)
        except CommandError as exc:
            return Reply(str(exc))
        except Exception:
            log.exception("slack: the %s button in %s failed", name, clicked_in(body))
            return Reply(GENERIC_ERROR)

    async def _run(self, command: dict[str, Any], text: str, client: AsyncWebClient) -> Reply:
        user = str(command.get("user_id") or "")
        channel = ChannelRef(
            platform=PLATFORM,
            channel_id=str(command.get("channel_id") or ""),
            workspace_id=str(command.get("team_id") or ""),
        )
        name, _, rest = text.partition(" ")
        args = parse_subscribe(rest) if name.lower() == "subscribe" else None
        asks = name.lower() in ADMIN_AWARE or (args is not None and bool(args.mention))
        admin = asks and bool(user) and await self.is_admin(user, client)
        invocation = Invocation(channel, user=user, is_admin=admin, words=self.words)
        if args is not None:
            return await self.service.subscribe(
                invocation, args.query, mention=args.mention, mode=args.mode, thread=args.thread
            )
        return await self.service.run_text(invocation, unescape(text))
