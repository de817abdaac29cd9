"""``/news help``: the commands and the query language as two lists, each entry a command (or a query)
in code format and what it does. A command's options are typed differently on each platform, so the
entries that have options come in each platform's form (:class:`HelpUsage`, which each platform gives)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.replies import Code, Item, Reply, Section, reply


@dataclass(frozen=True, slots=True)
class HelpUsage:
    """How a platform types the commands that have options, and what its lists offer. Each platform
    module gives its own (``handlers/slack/commands.py``, ``handlers/discord/commands.py``); these
    defaults are the terminal's."""

    subscribe: str = "/news subscribe <query> [hourly|daily]"
    subscribe_what: str = (
        "alert this channel about articles matching the query; hourly or daily: a digest instead of "
        "each alert"
    )
    feeds_add: str = "/news feeds add <url> [n]"
    buttons: str = ""
    """How a list offers to remove each row (", each with a button to remove it"), if it does."""


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


TERMINAL_USAGE = HelpUsage()


def help_reply(usage: HelpUsage = TERMINAL_USAGE) -> Reply:
    """The help, with the commands that have options as ``usage`` (the platform's) types them."""
    buttons = usage.buttons
    commands = (
        (usage.subscribe, usage.subscribe_what),
        ("/news list", f"this channel's subscriptions, numbered{buttons}"),
        ("/news unsubscribe <n>", "remove subscription number n (or give the query itself)"),
        ("/news pause <n>", "stop subscription n matching for now; the others go on"),
        ("/news resume <n>", "start a paused subscription matching again"),
        ("/news preview <query>", "what the query matches among recent articles (nothing is saved)"),
        ("/news why <url>", "was this article seen, and did it match here? If not, why not"),
        ("/news feeds list", f"the feeds this channel added{buttons}"),
        (
            usage.feeds_add,
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
