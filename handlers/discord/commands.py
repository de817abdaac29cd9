"""The /news app command group for Discord: each subcommand turns its options into a call on the
platform-neutral :class:`CommandService` and answers with its :class:`Reply`.

Errors stop in one place, :meth:`NewsTree.on_error`: a :class:`CommandError` is shown to the user as
is (ephemeral); anything else is logged with its traceback and the user gets a short apology, never
a traceback. A command still running after a moment is deferred and its reply follows up
(:mod:`handlers.discord.interactions`). The commands are for servers only: installed to a guild, used
in its channels (``integration_types`` and ``contexts`` in the synced payload).
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.errors import CommandError
from bot.core.models import ChannelRef, DigestSchedule, Mode
from bot.core.zones import zones_matching
from handlers.actions import run_action
from handlers.commands import CommandService, Invocation, PlatformWords
from handlers.discord import interactions
from handlers.discord.buttons import message_options
from handlers.help import HelpUsage
from handlers.replies import Reply

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong running that command; the details are in the bot's log."
CHOICES = 25
"""Discord shows at most 25 autocomplete choices, each name and value at most 100 characters."""
CHOICE_CHARS = 100


DISCORD_USAGE = HelpUsage(
    subscribe="/news subscribe query:<query> [mention:<role>] [mode:hourly|daily] [thread:True]",
    subscribe_what=(
        "alert this channel about articles matching the query. Options: a role to ping with each "
        "alert (admins); hourly or daily for a digest instead of each alert; thread to open a thread for "
        "each alert (in a forum channel every alert is a post)"
    ),
    feeds_add="/news feeds add url:<url> [items:n]",
    buttons=", with a button to remove each",
)


def discord_words(admin_role: str) -> PlatformWords:
    """Who may change what a whole channel gets, as Discord calls them."""
    admins = "server admins or members of the trusted role" if admin_role else "server admins"
    return PlatformWords(admins=admins, group="role", usage=DISCORD_USAGE)


def invocation_for(interaction: discord.Interaction, admin_role: str) -> Invocation:
    """Who ran the command and where. Admin: Manage Server, or the configured role."""
    if interaction.guild_id is None or interaction.channel_id is None:
        raise CommandError("/news works in a server's channels, not in direct messages.")
    user = interaction.user
    roles = {str(r.id) for r in user.roles} if isinstance(user, discord.Member) else set()
    is_admin = interaction.permissions.manage_guild or bool(admin_role and admin_role in roles)
    channel = ChannelRef("discord", str(interaction.channel_id), str(interaction.guild_id))
    return Invocation(channel, user=str(user.id), is_admin=is_admin, words=discord_words(admin_role))


def require_can_post(interaction: discord.Interaction) -> None:
    """Refuse a subscription whose alerts could never arrive."""
    perms = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    send = perms.send_messages_in_threads if in_thread else perms.send_messages
    if not (perms.view_channel and send and perms.embed_links):
        needed = "Send Messages in Threads" if in_thread else "Send Messages"
        raise CommandError(
            f"I can't post alerts in this channel: give me View Channel, {needed} and Embed Links "
            "here (channel settings → Permissions), then subscribe again."
        )


async def respond(interaction: discord.Interaction, reply: Reply) -> None:
    """Answer with the reply in Discord's form (:mod:`handlers.discord.replies`): escaped, no mentions;
    directly, or as a followup once the command was deferred (:mod:`handlers.discord.interactions`)."""
    await interactions.send(interaction, ephemeral=reply.ephemeral, **message_options(reply))


def feed_choices(urls: list[str], current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for ``/news feeds remove``: the channel's feeds containing what was typed, each
    valued by its link (or, for a link too long for a choice, its number in ``/news feeds list``)."""
    typed = current.strip().casefold()
    return [
        app_commands.Choice(
            name=f"{n}. {url}"[:CHOICE_CHARS], value=url if len(url) <= CHOICE_CHARS else str(n)
        )
        for n, url in enumerate(urls, 1)
        if typed in url.casefold() or typed == str(n)
    ][:CHOICES]


class NewsTree(app_commands.CommandTree[discord.Client]):
    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        interactions.start_grace(interaction)
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        cause: BaseException = error
        if isinstance(error, app_commands.CommandInvokeError):
            cause = error.original
        if isinstance(cause, CommandError):
            text = str(cause)
        elif isinstance(cause, app_commands.TransformerError | app_commands.CheckFailure):
            text = f"I couldn't use that: {cause}"
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("/%s failed", command, exc_info=cause)
            text = GENERIC_FAILURE
        if interaction.type is discord.InteractionType.autocomplete:
            return
        try:
            await respond(interaction, Reply(text, ephemeral=True))
        except discord.HTTPException:
            log.exception("could not tell the user that a command failed")


class NewsGroup(app_commands.Group):
    """/news ... ; every handler raises CommandError for a user's mistake (see NewsTree.on_error)."""

    def __init__(self, service: CommandService, admin_role: str) -> None:
        super().__init__(
            name="news",
            description="News alerts for this channel",
            guild_only=True,
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=False, private_channel=False
            ),
        )
        self.service = service
        self.admin_role = admin_role
        FeedsGroup(self)  # joins this group as /news feeds

    def invocation(self, interaction: discord.Interaction) -> Invocation:
        return invocation_for(interaction, self.admin_role)

    async def press(self, interaction: discord.Interaction, action: str, key: str) -> None:
        """A reply's button was clicked: run its action as the typed command would, and answer as
        that command does. Errors stop here, as :meth:`NewsTree.on_error` stops them for commands."""
        interactions.start_grace(interaction)
        try:
            reply = await run_action(self.service, self.invocation(interaction), action, key)
        except CommandError as exc:
            reply = Reply(str(exc))
        except Exception:
            log.exception("the %s button failed", action)
            reply = Reply(GENERIC_FAILURE)
        try:
            await respond(interaction, reply)
        except discord.HTTPException:
            log.exception("could not answer a click on the %s button", action)

    @app_commands.command(description="Alert this channel about articles matching a query")
    @app_commands.describe(
        query='e.g. Ukraine OR "NATO summit" -football',
        mention="a role to ping with each alert",
        mode="instant alerts, or an hourly or daily digest",
        thread="open a thread for each alert (in a forum channel every alert is a post anyway)",
    )
    async def subscribe(
        self,
        interaction: discord.Interaction,
        query: str,
        mention: discord.Role | None = None,
        mode: Mode = "instant",
        thread: bool = False,
    ) -> None:
        invocation = self.invocation(interaction)
        require_can_post(interaction)
        role = str(mention.id) if mention is not None and not mention.is_default() else ""
        reply = await self.service.subscribe(invocation, query, mention=role, mode=mode, thread=thread)
        await respond(interaction, reply)

    @app_commands.command(description="Remove one of this channel's subscriptions")
    @app_commands.describe(subscription="its number from /news list, or the query")
    async def unsubscribe(self, interaction: discord.Interaction, subscription: str) -> None:
        await respond(interaction, await self.service.unsubscribe(self.invocation(interaction), subscription))

    @app_commands.command(description="Stop one subscription matching for now (/news resume starts it again)")
    @app_commands.describe(subscription="its number from /news list, or the query")
    async def pause(self, interaction: discord.Interaction, subscription: str) -> None:
        await respond(interaction, await self.service.pause(self.invocation(interaction), subscription))

    @app_commands.command(description="Start a paused subscription matching again")
    @app_commands.describe(subscription="its number from /news list, or the query")
    async def resume(self, interaction: discord.Interaction, subscription: str) -> None:
        await respond(interaction, await self.service.resume(self.invocation(interaction), subscription))

    @unsubscribe.autocomplete("subscription")
    @pause.autocomplete("subscription")
    @resume.autocomplete("subscription")
    async def _subscription_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        choices = await self.service.subscription_choices(self.invocation(interaction), current)
        return [
            app_commands.Choice(name=label[:CHOICE_CHARS], value=value[:CHOICE_CHARS])
            for label, value in choices[:CHOICES]
        ]

    @app_commands.command(name="list", description="This channel's subscriptions")
    async def list_(self, interaction: discord.Interaction) -> None:
        await respond(interaction, await self.service.list(self.invocation(interaction)))

    @app_commands.command(description="What waits to be sent here, what could not be, and why")
    async def status(self, interaction: discord.Interaction) -> None:
        await respond(interaction, await self.service.status(self.invocation(interaction)))

    @app_commands.command(description="What a query matches among recent articles; nothing is saved")
    async def preview(self, interaction: discord.Interaction, query: str) -> None:
        self.invocation(interaction)
        await respond(interaction, await self.service.preview(query))

    @app_commands.command(description="Was this article seen, and did it match here? If not, why not")
    async def why(self, interaction: discord.Interaction, url: str) -> None:
        await respond(interaction, await self.service.why(self.invocation(interaction), url))

    @app_commands.command(description="Hold this channel's alerts (30m, 2h, 1d) or 'off' (admins)")
    async def mute(self, interaction: discord.Interaction, duration: str) -> None:
        await respond(interaction, await self.service.mute(self.invocation(interaction), duration))

    @app_commands.command(description="Gather this channel's alerts into a digest (admins)")
    async def digest(self, interaction: discord.Interaction, schedule: DigestSchedule) -> None:
        await respond(interaction, await self.service.digest(self.invocation(interaction), schedule))

    @app_commands.command(description="This channel's time zone, for digests and the times shown (admins)")
    @app_commands.describe(zone="an IANA name such as Europe/Kyiv or America/New_York; empty: show it")
    async def timezone(self, interaction: discord.Interaction, zone: str = "") -> None:
        await respond(interaction, await self.service.timezone(self.invocation(interaction), zone))

    @timezone.autocomplete("zone")
    async def _zone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in zones_matching(current)[:25]]

    @app_commands.command(name="help", description="How to use /news")
    async def help_(self, interaction: discord.Interaction) -> None:
        await respond(interaction, await self.service.help(DISCORD_USAGE))


class FeedsGroup(app_commands.Group):
    """/news feeds ...: adding and removing need Manage Server or the configured role (checked by the
    command service, which says who may in this platform's words)."""

    def __init__(self, parent: NewsGroup) -> None:
        super().__init__(name="feeds", description="The feeds this channel watches", parent=parent)
        self.news = parent

    @app_commands.command(name="list", description="The feeds this channel added")
    async def list_(self, interaction: discord.Interaction) -> None:
        await respond(interaction, await self.news.service.feeds(self.news.invocation(interaction), "list"))

    @app_commands.command(description="Watch a feed (admins)")
    @app_commands.describe(url="the feed's link", items="alert this many of its newest items now (0-20)")
    async def add(
        self, interaction: discord.Interaction, url: str, items: app_commands.Range[int, 0, 20] = 0
    ) -> None:
        rest = f"add {url.strip()} {items}" if items else f"add {url.strip()}"
        await respond(interaction, await self.news.service.feeds(self.news.invocation(interaction), rest))

    @app_commands.command(description="Stop watching a feed this channel added (admins)")
    @app_commands.describe(feed="its number from /news feeds list, or its link")
    async def remove(self, interaction: discord.Interaction, feed: str) -> None:
        invocation = self.news.invocation(interaction)
        await respond(interaction, await self.news.service.feeds(invocation, f"remove {feed.strip()}"))

    @remove.autocomplete("feed")
    async def _feed_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        invocation = self.news.invocation(interaction)
        return feed_choices(await self.news.service.store.channel_feeds(invocation.channel), current)
