"""Answering a Discord slash command in time.

Discord drops an interaction that is not answered within 3 seconds ("The application did not
respond"), and some commands may take longer: ``/news preview`` reads the recent articles, ``/news
feeds add`` checks the feed, any command may wait for the store. Which one is slow on a given day is
not known in advance, so every command gets a grace period instead: a command that has its reply
within :data:`GRACE` seconds is answered directly, as before; one still running then is deferred
(Discord shows "newsbot is thinking…" to the user who typed it) and its reply follows as a followup
(webhook) message once it is ready, up to the 15 minutes an interaction token lasts.

The defer is ephemeral, since whether the reply is for everyone is known only when it is ready. Discord
gives the first followup after a defer the defer's visibility, so an ephemeral reply fills the
"thinking" message; a reply for the channel first fills that message (the user sees it at once), then
is posted as an ordinary followup for everyone, and the ephemeral copy is deleted.

:func:`start_grace` is called as a command starts (the tree's ``interaction_check``), :func:`send` for
its one reply; a lock keeps the two from crossing (a reply that is ready while the defer is on its way
waits for it, then follows up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord

log = logging.getLogger(__name__)

GRACE = 1.5
"""Seconds a command may run before its interaction is deferred: half of Discord's 3, the other half
for the defer to reach Discord."""
_KEY = "newsbot.answer"


@dataclass
class _Answer:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    timer: asyncio.Task[None] | None = None
    thinking: bool = False
    """Deferred, and the "thinking" message still waits for its content."""


def start_grace(interaction: discord.Interaction, grace: float | None = None) -> None:
    """Defer ``interaction`` (a slash command, or a button whose answer is a new message) if nothing
    has answered it within ``grace`` seconds (:data:`GRACE`)."""
    if interaction.type is discord.InteractionType.autocomplete:
        return  # answered with choices at once, never deferred
    answer = _Answer()
    interaction.extras[_KEY] = answer
    delay = GRACE if grace is None else grace
    answer.timer = asyncio.create_task(_defer_after(interaction, answer, delay), name="discord-defer")


async def _defer_after(interaction: discord.Interaction, answer: _Answer, delay: float) -> None:
    await asyncio.sleep(delay)
    async with answer.lock:
        if interaction.response.is_done():
            return
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as exc:
            log.warning("discord: could not defer /%s: %s %s", _name(interaction), exc.status, exc.text)
            return
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # the reply still goes out, or says why
            log.warning("discord: could not defer /%s: %s: %s", _name(interaction), type(exc).__name__, exc)
            return
        answer.thinking = True
        log.debug("discord: /%s deferred after %.1fs", _name(interaction), delay)


async def send(interaction: discord.Interaction, *, ephemeral: bool, **message: Any) -> None:
    """Answer ``interaction`` with ``message`` (``content``, ``allowed_mentions``, ``embeds``, ``view``:
    what a response, a followup and an edit all take): directly if it is not answered yet, else as a
    followup, for the user alone (``ephemeral``) or for the channel."""
    answer = interaction.extras.get(_KEY)
    if not isinstance(answer, _Answer):
        answer = _Answer()
    async with answer.lock:
        if answer.timer is not None:
            answer.timer.cancel()
        if not interaction.response.is_done():
            await interaction.response.send_message(ephemeral=ephemeral, **message)
        elif answer.thinking:
            answer.thinking = False
            if ephemeral:
                await interaction.followup.send(ephemeral=True, **message)
            else:
                await interaction.edit_original_response(**message)
                await interaction.followup.send(ephemeral=False, **message)
                with contextlib.suppress(discord.HTTPException):
                    await interaction.delete_original_response()
        else:
            await interaction.followup.send(ephemeral=ephemeral, **message)


def _name(interaction: discord.Interaction) -> str:
    return interaction.command.qualified_name if interaction.command is not None else "?"
