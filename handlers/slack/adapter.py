"""Slack as a chat platform: the /news slash command through slack-bolt, alerts through the Web API.

Two ways to receive commands (``platforms.slack.mode``):

- ``socket``: Socket Mode, an outbound websocket opened with the app-level token; nothing to expose.
- ``http``: Slack POSTs to ``/slack/events`` on the bot's own web server (``web.enabled``), signed with
  the signing secret; :attr:`SlackAdapter.routes` is what the web server adds.

Slack wants a slash command acknowledged within 3 seconds. The handler acknowledges first, with an
empty ack, and only then runs the command (which may call users.info, read the store, look back over
recent articles); the reply follows through the command's ``response_url``.

When the app is uninstalled from the workspace (``app_uninstalled``) or its bot token is revoked
(``tokens_revoked``), the workspace's subscriptions are paused, with one log line, as a channel the bot
lost is paused (subscribing again in a channel resumes it). The Slack app subscribes to both events.

The bolt app makes the Web API client from the bot token (and it is pointed at ``api_base``): given a
client of ours instead, bolt would warn at every start that the ``SLACK_BOT_TOKEN`` it finds in the
environment "will be unused".

With ``platforms.slack.oauth`` the app serves many workspaces (:mod:`handlers.slack.oauth`): each installs
it from the bot's web server, bolt authorises each request by its team from the installations in the
database, the notifier posts with the alert's workspace's token, and an uninstall or a revoked bot token
deletes that workspace's installation besides pausing it. A bot token in the environment still serves its
own workspace.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import NewsBotError, StoreError
from bot.platforms import PlatformContext, SlackSettings
from bot.processing.subscriptions import pause_workspace
from handlers.commands import CommandService
from handlers.replies import Reply
from handlers.slack.commands import SlackAdmins, SlashCommands, clicked_in, slack_words
from handlers.slack.http import slack_routes
from handlers.slack.installations import DatabaseInstallations
from handlers.slack.notifier import SlackNotifier
from handlers.slack.oauth import OAuthApp, oauth_routes, oauth_settings
from handlers.slack.render import OPEN_ARTICLE
from handlers.slack.replies import render_slack_reply

log = logging.getLogger(__name__)

COMMAND = "/news"
BUTTONS = re.compile(r"^news:")
"""The action_id of every button of a /news reply: ``news:<action>:<key>``."""


class SlackError(NewsBotError):
    """Slack could not be reached or refused the bot's credentials at start."""


class SlackAdapter:
    name = "slack"

    def __init__(
        self,
        commands: CommandService,
        *,
        bot_token: str = "",
        app_token: str = "",
        signing_secret: str = "",
        api_base: str = "https://slack.com/api/",
        mode: Literal["socket", "http"] = "socket",
        admin_group: str = "",
        ping_interval: float = 10.0,
        oauth: OAuthApp | None = None,
    ) -> None:
        if not bot_token and oauth is None:
            raise ValueError("no bot token")
        if mode == "socket" and not app_token:
            raise ValueError("Slack Socket Mode needs an app-level token")
        if mode == "http" and not signing_secret:
            raise ValueError("Slack HTTP mode needs a signing secret")
        self.mode = mode
        self.installations = DatabaseInstallations(commands.store) if oauth is not None else None
        """The workspaces' installations (OAuth); None with one bot token for one workspace."""
        self.app = AsyncApp(
            token=bot_token if self.installations is None else None,
            signing_secret=signing_secret or None,
            request_verification_enabled=False,  # handlers/slack/http.py verifies each request
            oauth_settings=oauth_settings(oauth, self.installations)
            if oauth and self.installations
            else None,
            logger=logging.getLogger("slack_bolt"),
        )
        self.client: AsyncWebClient = self.app.client
        self.client.base_url = _with_slash(api_base)  # before any call: bolt's per-request clients copy it
        self._bot_token = bot_token
        self.commands = commands
        self.notifier = SlackNotifier(
            self.client, commands.store, commands.book, installations=self.installations
        )
        self.slash = SlashCommands(commands, SlackAdmins(admin_group), slack_words(admin_group))
        self.bot_user = ""
        """The bot's user id (auth.test at start): a ``tokens_revoked`` naming it is about this bot."""
        self.app.command(COMMAND)(self._on_command)
        self.app.action(BUTTONS)(self._on_button)
        self.app.action(OPEN_ARTICLE)(self._on_link)
        self.app.event("app_uninstalled")(self._on_uninstalled)
        self.app.event("tokens_revoked")(self._on_tokens_revoked)
        self.routes: list[web.RouteDef] = slack_routes(self.app, signing_secret) if mode == "http" else []
        """Routes for the bot's web server: ``POST /slack/events`` in HTTP mode, none in Socket Mode; and
        the install pages with OAuth."""
        if self.app.oauth_flow is not None:
            self.routes += oauth_routes(self.app.oauth_flow)
        self._app_token = app_token
        self._ping_interval = ping_interval
        self._socket: AsyncSocketModeHandler | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # One connection pool for every Web API call, the notifier's and those of bolt's per-request
        # clients (which take this client's session): without one, slack_sdk connects anew for each call.
        self._session = self.client.session = aiohttp.ClientSession()
        if self._bot_token:
            await self._identify()
        else:
            await self._count_installations()
        if self.mode == "socket":
            self._socket = AsyncSocketModeHandler(
                self.app, self._app_token, web_client=self.client, ping_interval=self._ping_interval
            )
            try:
                await self._socket.connect_async()  # type: ignore[no-untyped-call]
            except SlackApiError as exc:
                await self.stop()
                raise SlackError(f"Slack refused the app-level token: {exc.response.get('error')}") from exc

    async def _identify(self) -> None:
        """auth.test with the environment's bot token: who the bot is, and in which workspace."""
        try:
            identity = await self.client.auth_test(token=self._bot_token)
        except SlackApiError as exc:
            await self.stop()
            raise SlackError(f"Slack refused the bot token: {exc.response.get('error')}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self.stop()
            raise SlackError(f"cannot reach Slack at {self.client.base_url}: {exc}") from exc
        self.bot_user = str(identity.get("user_id") or "")
        if self.installations is not None:
            self.installations.fallback = Installation(
                enterprise_id=identity.get("enterprise_id") or None,
                team_id=str(identity.get("team_id") or ""),
                user_id="",
                bot_token=self._bot_token,
                bot_id=identity.get("bot_id"),
                bot_user_id=self.bot_user,
                installed_at=0.0,
            )
        log.info(
            "slack: connected as %s in %s (%s mode)", identity.get("user"), identity.get("team"), self.mode
        )

    async def _count_installations(self) -> None:
        try:
            teams = await self.commands.store.installed_teams()
        except StoreError as exc:
            await self.stop()
            raise SlackError(f"cannot read the Slack installations: {exc}") from exc
        log.info("slack: installed in %d workspace(s) (%s mode)", len(teams), self.mode)

    async def is_connected(self) -> bool:
        """Socket Mode: its websocket is open and answers pings. HTTP mode: Slack calls us, so started
        is connected."""
        if self.mode == "http":
            return self._session is not None
        return self._socket is not None and await self._socket.client.is_connected()

    async def stop(self) -> None:
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()  # type: ignore[no-untyped-call]
        if self._session is not None:
            session, self._session = self._session, None
            self.client.session = None
            await session.close()

    async def _on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()  # within Slack's 3 seconds, before any slow work
        reply = await self.slash.run(command, client)
        channel, user = str(command.get("channel_id")), str(command.get("user_id"))
        await self._reply(client, bool(command.get("response_url")), channel, user, reply, respond)

    @staticmethod
    async def _on_link(ack: AsyncAck) -> None:
        """An alert's "Open article" button: Slack opens the link itself, but still tells the app, and
        shows the user a warning unless the app acknowledges."""
        await ack()

    async def _on_button(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """A button of a /news reply (unsubscribe, remove a feed): answered as the command would be, in
        a new message (the list it was clicked in stays as it was)."""
        await ack()
        reply = await self.slash.press(body, client)
        channel, user = clicked_in(body), str((body.get("user") or {}).get("id"))
        await self._reply(
            client, bool(body.get("response_url")), channel, user, reply, respond, replace=False
        )

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        await self._pause_workspace(body, "the app was uninstalled from the workspace")

    async def _on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        bots = (event.get("tokens") or {}).get("bot") or []
        bot_user = await self._bot_user(body)
        if not bots or (bot_user and bot_user not in bots):
            return  # users' tokens, or another app's bot: this bot still posts
        await self._pause_workspace(body, "the bot token was revoked")

    async def _bot_user(self, body: dict[str, Any]) -> str:
        """This bot's user id in the event's workspace: each installation has its own."""
        if self.installations is None:
            return self.bot_user
        bot = await self.installations.async_find_bot(
            enterprise_id=body.get("enterprise_id"), team_id=str(body.get("team_id") or "")
        )
        return bot.bot_user_id or "" if bot is not None else ""

    async def _pause_workspace(self, body: dict[str, Any], reason: str) -> None:
        team = str(body.get("team_id") or "")
        if not team:
            return
        if self.installations is not None:
            try:  # no token of it is kept: a new install makes a new one
                await self.installations.async_delete_all(
                    enterprise_id=body.get("enterprise_id"), team_id=team
                )
            except StoreError as exc:
                log.error("slack: could not delete the installation of %s: %s", team, exc)
        await pause_workspace(self.commands.store, self.commands.book, "slack", team, reason)

    async def _reply(
        self,
        client: AsyncWebClient,
        has_response_url: bool,
        channel: str,
        user: str,
        reply: Reply,
        respond: AsyncRespond,
        *,
        replace: bool | None = None,
    ) -> None:
        # On Slack every reply is ephemeral: the channel sees the alerts, not the bookkeeping.
        message = render_slack_reply(reply)
        try:
            if has_response_url:
                result = await respond(
                    text=message["text"],
                    blocks=message["blocks"],
                    response_type="ephemeral",
                    replace_original=replace,
                )
                if result.status_code != 200:
                    log.warning("slack: reply to /news refused: HTTP %s %s", result.status_code, result.body)
                return
            await client.chat_postEphemeral(
                channel=channel, user=user, text=message["text"], blocks=message["blocks"]
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack: could not reply to /news in %s: %s", channel, exc)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def create_adapter(slack: SlackSettings, context: PlatformContext) -> SlackAdapter:
    """The adapter for ``platforms.slack``; tokens come from the environment variables it names."""
    env = context.env
    if slack.mode == "http" and not context.web_enabled:
        raise SlackError("platforms.slack.mode http needs the web server: set web.enabled: true")
    service = CommandService.from_context(context)
    if slack.oauth is not None and not context.web_enabled:
        raise SlackError("platforms.slack.oauth needs the web server: set web.enabled: true")
    oauth = None
    if slack.oauth is not None:
        oauth = OAuthApp(
            client_id=env.get(slack.oauth.client_id_env, ""),
            client_secret=env.get(slack.oauth.client_secret_env, ""),
            scopes=slack.oauth.scopes,
            state_secret=env.get(slack.oauth.state_secret_env, "") if slack.oauth.state_secret_env else "",
            install_path=slack.oauth.install_path,
            redirect_path=slack.oauth.redirect_path,
            redirect_url=slack.oauth.redirect_url,
            authorize_url=slack.oauth.authorize_url,
        )
        if not oauth.client_id or not oauth.client_secret:
            raise SlackError("platforms.slack.oauth: the client id or secret is not in the environment")
    try:
        return SlackAdapter(
            service,
            bot_token=env.get(slack.bot_token_env, ""),
            app_token=env.get(slack.app_token_env, "") if slack.mode == "socket" else "",
            signing_secret=env.get(slack.signing_secret_env, "") if slack.mode == "http" else "",
            api_base=slack.api_base,
            mode=slack.mode,
            admin_group=slack.admin_group,
            oauth=oauth,
        )
    except ValueError as exc:
        raise SlackError(f"platforms.slack: {exc}") from exc
