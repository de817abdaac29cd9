"""Flood control: at most ``rate`` messages a channel in any ``window`` seconds. What a busy feed or a
broad query brings beyond that is folded into one digest message, never dropped, and sent as soon as
the channel's budget allows the next message. Notices and edits of posted alerts do not count. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.delivery.schedule import Plan
from bot.store import OutboxItem


@dataclass(frozen=True, slots=True)
class Budget:
    remaining: int
    """Messages the channel may still be sent in the current window."""
    next_free_at: float
    """When the next message is allowed again, once ``remaining`` is 0."""


def budget(sent_at: Sequence[float], rate: int, window: float, now: float) -> Budget:
    """From the times of the channel's recent messages (one time a message, a digest counting once)."""
    recent = sorted(t for t in sent_at if t > now - window)
    remaining = max(0, rate - len(recent))
    return Budget(remaining, now if remaining else recent[len(recent) - rate] + window)


def within_budget(plan: Plan, budgets: Mapping[str, Budget]) -> Plan:
    """``plan`` with each channel's messages cut to its budget: the first ``remaining - 1`` go as they
    are and the rest as one digest; a channel with no budget left waits until it has."""
    # Per channel, its messages in the order the worker sends them (digests, then single alerts), each
    # marked as a digest or not: a digest group is completed by the worker, a single alert is not.
    channels: dict[str, list[tuple[list[OutboxItem], bool]]] = {}
    for group in plan.digests:
        channels.setdefault(group[0].alert.channel.key, []).append((group, True))
    result = Plan(defer=list(plan.defer))
    for item in plan.send:
        if item.alert.kind == "article":
            channels.setdefault(item.alert.channel.key, []).append(([item], False))
        else:
            result.send.append(item)
    for key, messages in channels.items():
        allowed = budgets.get(key)
        if allowed is None or len(messages) <= allowed.remaining:
            kept, folded = messages, []
        elif allowed.remaining == 0:
            result.defer.extend((item, allowed.next_free_at) for group, _ in messages for item in group)
            continue
        else:
            kept, folded = messages[: allowed.remaining - 1], messages[allowed.remaining - 1 :]
        for group, is_digest in kept:
            if is_digest:
                result.digests.append(group)
            else:
                result.send.extend(group)
        if folded:
            result.folded.append([item for group, _ in folded for item in group])
    return result
