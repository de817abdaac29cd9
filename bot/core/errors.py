"""One exception tree for the whole bot.

Foreign errors (aiohttp, sqlite3, yaml, SDK errors) are wrapped with ``raise ... from`` at the edge
where they happen, so callers only ever catch :class:`NewsBotError` subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass


class NewsBotError(Exception):
    """Base of every error the bot raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a config file: where it is and what is wrong."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {self.message}"


class ConfigError(NewsBotError):
    """The configuration is invalid; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class QueryError(NewsBotError):
    """A subscription query could not be parsed or is not allowed.

    The message says what is wrong, and where in words ("the ( at column 1 is never closed"), so it
    reads well on its own (config file, command line). ``column`` is that spot, 1-based, for a marker
    under the query; ``example`` is a query that parses, showing the right way to write what failed.
    """

    def __init__(self, message: str, column: int | None = None, example: str = "") -> None:
        self.reason = message
        self.column = column
        self.example = example
        super().__init__(message)


class FeedError(NewsBotError):
    """A feed could not be fetched or is not a feed. ``retry_after`` is in seconds, when known."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None) -> None:
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(message)


class ArticleError(NewsBotError):
    """An article (pushed, replayed or parsed) is malformed."""


class InputError(NewsBotError):
    """A file named on the command line can't be read or written."""


class StoreError(NewsBotError):
    """The store failed (disk, schema, connection)."""


class StoreOpenError(StoreError):
    """The store cannot be opened at all (not a database, from a newer version, locked, no access):
    the operator's to fix, so the command line ends with exit 2 and the reason."""


class DeliveryError(NewsBotError):
    """A notifier could not deliver. Retry when ``retryable``; wait ``retry_after`` seconds if given.
    ``auth``: the platform refused the bot's token (revoked, wrong): nothing can be sent there until it
    works again, so the worker holds that platform's alerts instead of spending their retries.
    ``gone``: the channel is gone or the bot lost access to it; the notifier has paused its
    subscriptions, and the worker holds its alerts until the channel is resumed.
    ``unexpected``: not the platform's answer but a bug the send tripped over (the worker wraps any other
    exception in one); retried a few times, then the alert is set aside so its channel goes on."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
        auth: bool = False,
        gone: bool = False,
        unexpected: bool = False,
    ) -> None:
        self.retryable = retryable
        self.unexpected = unexpected
        self.retry_after = retry_after
        self.auth = auth
        self.gone = gone
        super().__init__(message)


class CommandError(NewsBotError):
    """A chat command failed for a reason the user can act on; the message is shown to them as is."""
