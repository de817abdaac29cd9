"""A reply's buttons on Discord, through discord.py: :class:`NewsButton` is a dynamic item, so a click
is handled by its ``custom_id`` (``news:<action>:<key>``) whenever it comes, after a restart too, with
nothing kept per message. A click goes to the client's :meth:`ButtonHost.news_button` (the adapter's
client), which runs the action as the typed command would and answers like one."""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import discord

from handlers.discord.replies import DiscordReply, render_discord_reply
from handlers.replies import BUTTON_ID, Reply


@runtime_checkable
class ButtonHost(Protocol):
    async def news_button(self, interaction: discord.Interaction, action: str, key: str) -> None: ...


class NewsButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=BUTTON_ID):
    def __init__(self, custom_id: str, label: str) -> None:
        super().__init__(
            discord.ui.Button(label=label, custom_id=custom_id, style=discord.ButtonStyle.secondary)
        )
        match = BUTTON_ID.fullmatch(custom_id)
        assert match is not None, custom_id
        self.action, self.key = match["action"], match["key"]

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NewsButton:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match.group(0), label or match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        if isinstance(interaction.client, ButtonHost):
            await interaction.client.news_button(interaction, self.action, self.key)


def message_options(reply: Reply) -> dict[str, Any]:
    """The reply as keyword arguments of ``send_message`` and ``followup.send`` (ephemeral aside)."""
    rendered: DiscordReply = render_discord_reply(reply)
    options: dict[str, Any] = {
        "content": rendered["content"] or None,
        "embeds": [discord.Embed.from_dict(dict(e)) for e in rendered["embeds"]],
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if shown := rendered.get("buttons"):
        view = discord.ui.View(timeout=None)
        for button in shown:
            view.add_item(NewsButton(button["custom_id"], button["label"]))
        # Stopped before it is sent, so discord.py keeps nothing for it: its buttons are handled by id for
        # as long as the client runs (the adapter registers NewsButton once). A view discord.py kept would,
        # on timing out (an ephemeral one after 15 minutes), unregister NewsButton for every message.
        view.stop()
        options["view"] = view
    return options
