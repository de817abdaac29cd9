"""``/news help``: the commands and the query language as two lists, each entry a command (or a query)
in code format and what it does. A command's options are typed differently on each platform, so the
entries that have options come in each platform's form."""

from __future__ import annotations

from handlers.replies import Code, Item, Reply, Section, reply

_SUBSCRIBE = {
    "slack": (
        "/news subscribe <query> [@group] [hourly|daily] [thread]",
        "alert this channel about articles matching the query. Options, at the end: a user group to "
        "mention with each alert (admins); hourly or daily for a digest instead of each alert; thread to "
        "post the day's alerts in one thread",
    ),
    "discord": (
        "/news subscribe query:<query> [mention:<role>] [mode:hourly|daily] [thread:True]",
        "alert this channel about articles matching the query. Options: a role to ping with each "
        "alert (admins); hourly or daily for a digest instead of each alert; thread to open a thread for "
        "each alert (in a forum channel every alert is a post)",
    ),
}
_SUBSCRIBE_PLAIN = (
    "/news subscribe <query> [hourly|daily]",
    "alert this channel about articles matching the query; hourly or daily: a digest instead of each alert",
)
_FEEDS_ADD = {"discord": "/news feeds add url:<url> [items:n]"}
_BUTTONS = {"slack": ", each with a button to remove it", "discord": ", with a button to remove each"}

QUERIES: tuple[tuple[str, str], ...] = (
    ("Ukraine grain", "every word must appear"),
    ('"air defence"', "the exact phrase"),
    ("Kyiv OR Kharkiv", "either one (operators count in capitals only; | works too)"),
    ("-football", "leave out articles with the word (NOT football too)"),
    ("(Kyiv OR Kharkiv) drones", "parentheses group"),
    ("Ukrain*", "any word starting so (3 letters at least before the star)"),
    ("Zelensky NEAR/10 Brussels", "the two within 10 words of each other (at most NEAR/50)"),
    ("title:Ukraine", "in the headline only; title:(Kyiv OR Kharkiv) for several"),
    ("site:example.com", "articles from one website"),
    ("source:Reuters", 'articles from one outlet, by its name (source:"Harbour Gazette" for two words)'),
    ("NATO", "a short word in capitals matches only in capitals; =Apple for exact case, ~US for any case"),
)


def help_reply(platform: str = "") -> Reply:
    """The help for ``platform`` ("slack", "discord"; anything else: the terminal)."""
    subscribe, what = _SUBSCRIBE.get(platform, _SUBSCRIBE_PLAIN)
    buttons = _BUTTONS.get(platform, "")
    commands = (
        (subscribe, what),
        ("/news list", f"this channel's subscriptions, numbered{buttons}"),
        ("/news unsubscribe <n>", "remove subscription number n (or give the query itself)"),
        ("/news pause <n>", "stop subscription n matching for now; the others go on"),
        ("/news resume <n>", "start a paused subscription matching again"),
        ("/news preview <query>", "what the query matches among recent articles (nothing is saved)"),
        ("/news why <url>", "was this article seen, and did it match here? If not, why not"),
        ("/news feeds list", f"the feeds this channel added{buttons}"),
        (
            _FEEDS_ADD.get(platform, "/news feeds add <url> [n]"),
            "watch a feed (admins); its current items are history, or alert its n newest (up to 20)",
        ),
        ("/news feeds remove <n>", "stop watching a feed this channel added (admins)"),
        (
            "/news mute <duration>",
            'hold this channel\'s alerts (30m, 2h, 1d; "off" to end); they come as one digest (admins)',
        ),
        ("/news digest off|hourly|daily", "gather this channel's alerts into one message (admins)"),
        (
            "/news timezone <zone>",
            "this channel's time zone, e.g. Europe/Kyiv: daily digests at 08:00 there, hourly ones on its "
            "hours (admins; without a zone: show it)",
        ),
        ("/news status", "what waits to be sent here, what could not be, and why"),
        ("/news help", "this help"),
    )
    return reply(
        Section(heading="News alerts: the /news commands", items=_entries(commands)),
        Section(heading="Queries", items=_entries(QUERIES)),
    )


def _entries(entries: tuple[tuple[str, str], ...]) -> tuple[Item, ...]:
    return tuple(Item((Code(code), " — " + what)) for code, what in entries)
