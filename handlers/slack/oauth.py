"""One Slack app for many workspaces: the install flow (Slack's OAuth v2) on the bot's own web server.

An admin opens ``install_path`` and is sent to Slack's consent page with a ``state``; Slack sends them
back to ``redirect_path`` with a code, which bolt exchanges (``oauth.v2.access``) for the workspace's
bot token and saves in the bot's database (:class:`DatabaseInstallations`). The ``state`` is signed
(HMAC) and expires, and is bound to the admin's browser by a cookie: nothing of it is kept in memory, so
any worker sharing the database completes an install another began. The pages say what happened in
words an admin can act on; tokens never appear in them or in the log."""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.state_store.stateless import StatelessOAuthStateStore

from handlers.slack.installations import DatabaseInstallations

log = logging.getLogger(__name__)

STATE_SECONDS = 600
"""How long an install link's state is good for: the admin's time on Slack's consent page."""


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """The Slack app's credentials and where its install pages are (``platforms.slack.oauth``)."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    state_secret: str = ""
    """Signs the state; "" derives one from the client secret (every worker has it)."""
    install_path: str = "/slack/install"
    redirect_path: str = "/slack/oauth_redirect"
    redirect_url: str = ""
    authorize_url: str = "https://slack.com/oauth/v2/authorize"

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, scopes={self.scopes!r})"

    def signing_key(self) -> str:
        if self.state_secret:
            return self.state_secret
        return hmac.new(self.client_secret.encode(), b"newsbot oauth state", hashlib.sha256).hexdigest()


def oauth_settings(app: OAuthApp, installations: DatabaseInstallations) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=app.client_id,
        client_secret=app.client_secret,
        scopes=list(app.scopes),
        user_scopes=[],
        redirect_uri=app.redirect_url or None,
        install_path=app.install_path,
        install_page_rendering_enabled=False,  # straight to Slack's consent page
        redirect_uri_path=app.redirect_path,
        callback_options=AsyncCallbackOptions(success=_installed, failure=_refused),
        authorization_url=app.authorize_url,
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=StatelessOAuthStateStore(
            expiration_seconds=STATE_SECONDS, signing_secret=app.signing_key(), logger=log
        ),
        state_expiration_seconds=STATE_SECONDS,
        logger=log,
    )


def oauth_routes(flow: AsyncOAuthFlow) -> list[web.RouteDef]:
    """``GET install_path`` and ``GET redirect_path`` for the bot's web server. Neither is signed by
    Slack: the state (signed, expiring, matched to the browser's cookie) is what the redirect checks."""

    async def install(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_installation(_bolt_request(request)))

    async def redirect(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_callback(_bolt_request(request)))

    return [web.get(flow.install_path, install), web.get(flow.redirect_uri_path, redirect)]


def _bolt_request(request: web.Request) -> AsyncBoltRequest:
    return AsyncBoltRequest(
        body="",
        query=request.query_string,
        headers={k.lower(): request.headers.getall(k) for k in request.headers},
    )


REFUSALS = {
    "invalid_browser": "This install link was opened in another browser, or its cookie is gone",
    "invalid_state": "This install link has expired or was not issued by this bot",
    "access_denied": "The install was cancelled on Slack's page",
    "missing_code": "Slack sent no install code",
    "invalid_code": "Slack did not accept the install code (it may have been used already)",
    "storage_error": "The installation could not be saved; nothing was installed",
}


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    where = args.installation.team_name or args.installation.enterprise_name or "your workspace"
    body = _page(
        "newsbot is installed",
        f"newsbot is installed in {html.escape(where)}. Invite it to a channel and type "
        "<code>/news help</code> there.",
    )
    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    return BoltResponse(status=200, body=body, headers={"Content-Type": "text/html", "Set-Cookie": [cookie]})


async def _refused(args: AsyncFailureArgs) -> BoltResponse:
    reason = REFUSALS.get(args.reason, f"Slack answered {args.reason}")
    log.warning("slack: an install was refused: %s", args.reason)
    again = html.escape(args.settings.install_path, quote=True)
    body = _page(
        "newsbot was not installed",
        f'{html.escape(reason)}. <a href="{again}">Start the install again</a>.',
    )
    return BoltResponse(status=args.suggested_status_code, body=body, headers={"Content-Type": "text/html"})


def _page(title: str, paragraph: str) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{paragraph}</p></body></html>"
    )
