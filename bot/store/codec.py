"""Alerts to and from the JSON kept in the outbox."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.core.models import Alert, ChannelRef, Headline


def alert_to_json(alert: Alert) -> str:
    return json.dumps(
        {
            "id": alert.id,
            "channel": [alert.channel.platform, alert.channel.workspace_id, alert.channel.channel_id],
            "story_id": alert.story_id,
            "title": alert.title,
            "url": alert.url,
            "source": alert.source,
            "summary": alert.summary,
            "terms": list(alert.terms),
            "queries": list(alert.queries),
            "published": alert.published.isoformat() if alert.published else None,
            "image_url": alert.image_url,
            "mention": alert.mention,
            "kind": alert.kind,
            "also": list(alert.also),
            "mode": alert.mode,
            "thread": alert.thread,
            "headlines": [[h.title, h.url, h.source] for h in alert.headlines],
        },
        ensure_ascii=False,
    )


def alert_from_json(payload: str) -> Alert:
    data: dict[str, Any] = json.loads(payload)
    platform, workspace, channel = data["channel"]
    published = data.get("published")
    return Alert(
        id=data["id"],
        channel=ChannelRef(platform=platform, channel_id=channel, workspace_id=workspace),
        story_id=data["story_id"],
        title=data["title"],
        url=data["url"],
        source=data["source"],
        summary=data["summary"],
        terms=tuple(data["terms"]),
        queries=tuple(data["queries"]),
        published=datetime.fromisoformat(published) if published else None,
        image_url=data.get("image_url", ""),
        mention=data.get("mention", ""),
        kind=data.get("kind", "article"),
        also=tuple(data.get("also", ())),
        mode=data.get("mode", "instant"),
        thread=bool(data.get("thread", False)),
        headlines=tuple(Headline(*h) for h in data.get("headlines", ())),
    )
