"""The terminal as a chat platform: alerts printed on stdout, /news commands read from stdin.

It is the embedded default when no chat token is configured, and uses the same command service as
Discord and Slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import textwrap
from collections.abc import Callable
from typing import TextIO

from aiohttp import web

from bot.core.errors import CommandError
from bot.core.models import Alert, ChannelRef, MessageRef
from bot.platforms import ConsoleSettings, PlatformContext
from handlers.commands import CommandService, Invocation, PlatformWords
from handlers.replies import Reply
from handlers.text import drop_unsafe, listed_stories, mark, single_line, term_spans

log = logging.getLogger(__name__)

CONSOLE_CHANNEL = ChannelRef(platform="console", channel_id="console")
CONSOLE_WORDS = PlatformWords(admins="anyone at the terminal", group="group")
_WIDTH = 100
_BOLD, _DIM, _CYAN, _RESET = "\033[1m", "\033[2m", "\033[36m", "\033[0m"


def render_console(alert: Alert, *, color: bool = False) -> str:
    """A readable plain-text alert: headline, source and time, link, summary, why it matched."""

    def style(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    if alert.kind == "notice":
        return style("⚠ " + single_line(alert.title), _BOLD) + "\n  " + _terminal_safe(alert.summary) + "\n"
    when = alert.published.strftime("%d %b %Y %H:%M UTC") if alert.published else ""
    source = "" if alert.kind == "digest" else single_line(alert.source)
    meta = " · ".join(part for part in (source, when) if part)
    url = single_line(alert.url)
    if alert.kind == "digest" and alert.headlines:
        summary = _digest(alert, lambda text: style(text, _CYAN))
    else:
        summary = textwrap.fill(
            _terminal_safe(alert.summary), width=_WIDTH, initial_indent="  ", subsequent_indent="  "
        )
    if color and alert.terms:
        spans = term_spans(summary, alert.terms)
        summary = mark(summary, spans, escape=str, bold=lambda t: style(t, _BOLD))
    lines = [
        style("━" * 3 + " " + (single_line(alert.title) or "(untitled)"), _BOLD),
        "  " + style(meta, _DIM) if meta else "",
        "  " + style(url, _CYAN) if url else "",
        summary,
        "  matched: "
        + ", ".join(single_line(t) for t in alert.terms)
        + style(f"   (subscription: {' | '.join(single_line(q) for q in alert.queries)})", _DIM),
        "  also reported by " + ", ".join(single_line(a) for a in alert.also) if alert.also else "",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def _digest(alert: Alert, link: Callable[[str], str]) -> str:
    """A digest's stories, a line each (title and outlet), its link below it."""
    lines = []
    named, more = listed_stories(alert.headlines)
    for headline in named:
        source = single_line(headline.source)
        lines.append(
            "  • " + (single_line(headline.title) or "(untitled)") + (f" — {source}" if source else "")
        )
        if url := single_line(headline.url):
            lines.append("    " + link(url))
    if more:
        lines.append("  " + more)
    return "\n".join(lines)


def _terminal_safe(text: str) -> str:
    """Outside text must not drive the terminal: no control characters, escape sequences or bidi
    overrides. Every text of an alert or a reply goes through this (or :func:`single_line`, which
    does it too): a feed added from chat has no name, so even the source is the feed's own title."""
    return drop_unsafe(text)


def render_console_reply(reply: Reply) -> str:
    """A /news reply as the terminal prints it: its plain text (numbered and bulleted lines; a
    reply's buttons are the commands the terminal types), with no control character."""
    return _terminal_safe(reply.text)


class ConsoleNotifier:
    platform = "console"

    def __init__(self, stream: TextIO | None = None, *, color: bool | None = None) -> None:
        self.stream = stream
        self.color = color

    def _out(self) -> TextIO:
        return self.stream or sys.stdout

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        out = self._out()
        color = self.color if self.color is not None else out.isatty()
        out.write(render_console(alert, color=color) + "\n")
        out.flush()
        return MessageRef(platform=self.platform, channel_id=alert.channel.channel_id, message_id=alert.id)

    async def edit(self, ref: MessageRef, alert: Alert) -> None:
        out = self._out()
        out.write("(update) " + render_console(alert) + "\n")
        out.flush()


class ConsoleAdapter:
    """Prints alerts; in an interactive terminal also reads /news commands typed on stdin."""

    name = "console"
    routes: tuple[web.AbstractRouteDef, ...] = ()

    def __init__(
        self,
        commands: CommandService,
        *,
        notifier: ConsoleNotifier | None = None,
        read_commands: bool = True,
        stdin: TextIO | None = None,
    ) -> None:
        self.commands = commands
        self.notifier = notifier or ConsoleNotifier()
        self.read_commands = read_commands
        self.stdin = stdin
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        stdin = self.stdin or sys.stdin
        if self.read_commands and stdin.isatty():
            self._task = asyncio.create_task(self._read_loop(stdin), name="console-commands")
            self._print("Type /news help for commands.")

    async def is_connected(self) -> bool:
        return True  # the terminal is always there

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def handle_line(self, line: str) -> str:
        """Run one typed line and return what to print. Errors stop here, one layer for all commands:
        a user's mistake is shown as is; anything else is logged with its traceback."""
        try:
            # Whoever has the terminal runs the bot: they may manage feeds.
            invocation = Invocation(CONSOLE_CHANNEL, user="console", is_admin=True, words=CONSOLE_WORDS)
            reply = await self.commands.run_text(invocation, line)
        except CommandError as exc:
            reply = Reply(str(exc))
        except Exception:
            log.exception("console command %r failed", line)
            reply = Reply("Something went wrong running that command; the details are in the log.")
        return render_console_reply(reply)

    async def _read_loop(self, stdin: TextIO) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        while raw := await reader.readline():
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                self._print(await self.handle_line(line))

    def _print(self, text: str) -> None:
        out = self.notifier.stream or sys.stdout
        out.write(_terminal_safe(text) + "\n")
        out.flush()


def create_adapter(settings: ConsoleSettings, context: PlatformContext) -> ConsoleAdapter:
    return ConsoleAdapter(
        CommandService.from_context(context),
        notifier=ConsoleNotifier(color=None if settings.color == "auto" else settings.color),
        read_commands=settings.commands,
    )
