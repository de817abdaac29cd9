from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.errors import DeliveryError
from bot.core.models import Alert, ChannelRef, MessageRef
from bot.delivery.notify import NotifierRegistry
from bot.delivery.worker import UNEXPECTED_ATTEMPTS, DeliveryReport, DeliveryWorker, RetryPolicy
from bot.store import SqliteStore
from tests.store_support import alert

A = ChannelRef("test", "A")
B = ChannelRef("test", "B")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedNotifier:
    """A platform whose sends fail as scripted: a list of errors per channel, consumed one per send."""

    platform = "test"

    def __init__(self, failures: dict[str, list[DeliveryError]] | None = None) -> None:
        self.failures = failures or {}
        self.sent: list[str] = []

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        queue = self.failures.get(alert.channel.channel_id, [])
        if queue:
            raise queue.pop(0)
        self.sent.append(alert.story_id)
        return MessageRef(self.platform, alert.channel.channel_id, f"m-{alert.story_id}")

    async def edit(self, ref: MessageRef, alert: Alert) -> None:
        raise DeliveryError("not used", retryable=False)


def worker(store: SqliteStore, notifier: ScriptedNotifier, clock: Clock, **policy: float) -> DeliveryWorker:
    registry = NotifierRegistry()
    registry.register(notifier)
    return DeliveryWorker(store, registry, RetryPolicy(**policy), batch=2, clock=clock)  # type: ignore[arg-type]


async def test_alerts_are_delivered_in_order_across_batches(store: SqliteStore) -> None:
    clock = Clock()
    notifier = ScriptedNotifier()
    await store.record_processed([], [alert(f"s{i}", A) for i in range(5)], now=clock.now)
    report = await worker(store, notifier, clock).deliver_due()
    assert report.sent == 5 and notifier.sent == [f"s{i}" for i in range(5)]
    assert await store.pending_count() == 0
    assert await worker(store, notifier, clock).deliver_due() == DeliveryReport()  # nothing sent twice


async def test_retryable_failure_backs_off_honours_retry_after_and_keeps_channel_order(
    store: SqliteStore,
) -> None:
    clock = Clock()
    notifier = ScriptedNotifier({"A": [DeliveryError("429 rate limited", retry_after=120.0)]})
    await store.record_processed([], [alert("a1", A), alert("a2", A), alert("b1", B)], now=clock.now)
    w = worker(store, notifier, clock, base=5.0)
    report = await w.deliver_due()
    # a2 must not overtake a1 in channel A; B is unaffected.
    assert (report.sent, report.retrying) == (1, 1) and notifier.sent == ["b1"]
    clock.now += 60  # Retry-After says 120 s: neither a1 nor a2, which waits behind it
    assert (await w.deliver_due()).sent == 0
    clock.now += 100
    await w.deliver_due()
    assert notifier.sent == ["b1", "a1", "a2"]
    assert await store.pending_count() == 0


async def test_permanent_failure_is_kept_as_failed_and_others_go_on(store: SqliteStore) -> None:
    clock = Clock()
    notifier = ScriptedNotifier({"A": [DeliveryError("missing access", retryable=False)]})
    await store.record_processed([], [alert("a1", A), alert("b1", B)], now=clock.now)
    report = await worker(store, notifier, clock).deliver_due()
    assert (report.sent, report.failed) == (1, 1) and notifier.sent == ["b1"]
    assert await store.pending_count() == 0


async def test_retries_through_an_outage_and_gives_up_only_past_the_horizon(store: SqliteStore) -> None:
    """A day of platform trouble by default: an outage of hours loses nothing."""
    clock = Clock()
    notifier = ScriptedNotifier({"A": [DeliveryError("503") for _ in range(100)]})
    await store.record_processed([], [alert("a1", A)], now=clock.now)
    w = worker(store, notifier, clock, give_up_after=3 * 3600, base=60, cap=3600)
    outcomes = []
    while not outcomes or outcomes[-1] == (1, 0):
        report = await w.deliver_due()
        outcomes.append((report.retrying, report.failed))
        clock.now += 3600
    assert outcomes[-1] == (0, 1) and 3 <= len(outcomes) <= 5  # an hour apart at most: 3h of retries
    assert notifier.sent == []


class RaisingNotifier(ScriptedNotifier):
    """A notifier with a bug that shows for one alert."""

    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad = bad
        self.calls: list[tuple[str, bool]] = []

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        self.calls.append((alert.story_id, retry))
        if alert.story_id == self.bad:
            raise KeyError("payload['blocks']")
        return await super().send(alert, retry=retry)


async def test_an_unexpected_exception_sets_one_alert_aside_and_the_rest_go_on(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    notifier = RaisingNotifier("a1")
    await store.record_processed([], [alert("a1", A), alert("a2", A), alert("b1", B)], now=clock.now)
    w = worker(store, notifier, clock, base=1.0)
    report = await w.deliver_due()
    assert (report.sent, report.retrying) == (1, 1) and notifier.sent == ["b1"]  # A waits behind a1
    assert caplog.text.count("Traceback") == 1 and "KeyError" in caplog.text
    notifier.bad = ""  # the bug is fixed (or the alert's data no longer trips it)
    clock.now += 60
    report = await w.deliver_due()
    assert report.sent == 2 and notifier.sent == ["b1", "a1", "a2"]
    assert notifier.calls[-2:] == [("a1", True), ("a2", False)]


async def test_an_alert_that_keeps_raising_is_set_aside_and_its_channel_goes_on(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Not held for give_up_after (a day), which would hold every later alert of its channel too."""
    clock = Clock()
    notifier = RaisingNotifier("a1")
    await store.record_processed([], [alert("a1", A), alert("a2", A)], now=clock.now)
    w = worker(store, notifier, clock, base=1.0)
    for _ in range(UNEXPECTED_ATTEMPTS):
        await w.deliver_due()
        clock.now += 60
    assert notifier.calls == [("a1", False)] + [("a1", True)] * (UNEXPECTED_ATTEMPTS - 1) + [("a2", False)]
    assert notifier.sent == ["a2"]
    assert caplog.text.count("Traceback") == 1 and "failed for good after 5 attempts" in caplog.text
    assert (await store.channel_outbox(A, clock.now)).failed == 1


class VanishingNotifier(ScriptedNotifier):
    """Posts the message, then the process dies before the bot records it."""

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        await super().send(alert, retry=retry)
        raise asyncio.CancelledError  # the SIGKILL between the platform's answer and the store


async def test_a_send_cut_off_after_the_platform_took_it_is_resent_as_a_retry(store: SqliteStore) -> None:
    """So that the notifier looks for the first post before posting again (the attempt is counted
    before the request goes out, not after)."""
    clock = Clock()
    await store.record_processed([], [alert("a1", A)], now=clock.now)
    with pytest.raises(asyncio.CancelledError):
        await worker(store, VanishingNotifier(), clock).deliver_due()
    notifier = RaisingNotifier("")
    assert (await worker(store, notifier, clock).deliver_due()).sent == 1
    assert notifier.calls == [("a1", True)]


async def test_alert_for_a_platform_not_running_waits_untouched(store: SqliteStore) -> None:
    clock = Clock()
    await store.record_processed([], [alert("x", ChannelRef("slack", "C1"))], now=clock.now)
    for _ in range(20):
        assert await worker(store, ScriptedNotifier(), clock).deliver_due() == DeliveryReport()
        clock.now += 10_000
    [waiting] = await store.due_alerts(clock.now, 10, ["slack"])
    assert waiting.attempts == 0


async def test_pending_alert_survives_a_restart_and_a_delivered_one_is_not_resent(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(path)
    await store.record_processed([], [alert("s1", A), alert("s2", A)], now=clock.now)
    first = ScriptedNotifier({"A": [], "B": []})
    w = DeliveryWorker(store, _registry(first), RetryPolicy(), batch=1, clock=clock)
    items = await store.due_alerts(clock.now, 1, ["test"])
    await w._deliver_group([items[0]], set())  # delivered s1, then the process "dies" before s2
    await store.close()

    store = await SqliteStore.open(path)
    second = ScriptedNotifier()
    await worker(store, second, clock).deliver_due()
    assert first.sent == ["s1"] and second.sent == ["s2"]
    await store.close()


def _registry(notifier: ScriptedNotifier) -> NotifierRegistry:
    registry = NotifierRegistry()
    registry.register(notifier)
    return registry


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base=5.0, cap=60.0)
    delays = [policy.delay(n, None, rand=lambda: 0.5) for n in (1, 2, 3, 4, 10)]
    assert delays == [5.0, 10.0, 20.0, 40.0, 60.0]
    assert policy.delay(1, 300.0, rand=lambda: 0.5) == 300.0
    assert RetryPolicy(base=0.0).delay(1, 0.0) == 1.0  # never an immediate retry in the same pass


async def test_a_muted_channel_gets_its_held_alerts_as_one_digest_afterwards(store: SqliteStore) -> None:
    clock = Clock()
    notifier = ScriptedNotifier()
    await store.set_mute(A, clock.now + 3600)
    await store.record_processed([], [alert("a1", A), alert("a2", A), alert("b1", B)], now=clock.now)
    w = worker(store, notifier, clock)
    report = await w.deliver_due()
    assert (report.sent, report.held, notifier.sent) == (1, 2, ["b1"])
    clock.now += 3601
    report = await w.deliver_due()
    assert report.sent == 2 and notifier.sent[1].startswith("digest:")
    assert await store.pending_count() == 0


async def test_unmuting_releases_what_the_mute_held_at_once_as_one_digest(store: SqliteStore) -> None:
    clock = Clock()
    notifier = ScriptedNotifier()
    await store.set_mute(A, clock.now + 3600)
    await store.record_processed([], [alert("a1", A), alert("a2", A), alert("a3", A)], now=clock.now)
    w = worker(store, notifier, clock)
    assert (await w.deliver_due()).held == 3
    clock.now += 60  # an hour early
    assert await store.end_mute(A, clock.now) == 3
    report = await w.deliver_due()
    assert report.sent == 3 and notifier.sent == ["digest:a1"]  # one message for the three
    assert await store.pending_count() == 0


class EditingNotifier(ScriptedNotifier):
    def __init__(self) -> None:
        super().__init__()
        self.edits: list[tuple[str, tuple[str, ...]]] = []

    async def edit(self, ref: MessageRef, alert: Alert) -> None:
        self.edits.append((ref.message_id, alert.also))


async def test_a_story_that_gains_sources_edits_the_posted_alert(store: SqliteStore) -> None:
    import dataclasses

    clock = Clock()
    notifier = EditingNotifier()
    first = alert("s1", A)
    await store.record_processed([], [first], now=clock.now)
    w = worker(store, notifier, clock)
    await w.deliver_due()
    await store.record_processed([], [dataclasses.replace(first, source="Other Paper")], now=clock.now)
    await store.record_processed([], [dataclasses.replace(first, source="Other Paper")], now=clock.now)
    report = await w.deliver_due()
    assert report.edited == 1 and notifier.edits == [("m-s1", ("Other Paper",))]
    assert (await w.deliver_due()).edited == 0  # edited once
    assert notifier.sent == ["s1"]  # never a second message


class RefusingNotifier(ScriptedNotifier):
    """A platform whose token is refused until ``refusing`` is cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.refusing = True
        self.tries = 0

    async def send(self, alert: Alert, *, retry: bool = False) -> MessageRef:
        self.tries += 1
        if self.refusing:
            raise DeliveryError("slack: invalid_auth", retryable=True, auth=True)
        return await super().send(alert, retry=retry)


async def test_a_refused_token_holds_the_platforms_alerts_and_they_go_out_when_it_works_again(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    notifier = RefusingNotifier()
    await store.record_processed([], [alert(f"a{i}", A) for i in range(5)], now=clock.now)
    w = worker(store, notifier, clock, give_up_after=600)
    report = await w.deliver_due()
    assert (report.sent, report.failed, notifier.tries) == (0, 0, 1)  # one try, then the platform waits
    assert await w.next_due() == pytest.approx(clock.now + 60, rel=0.25)
    for _ in range(30):  # a day of refusals: nothing is given up, one error line in all
        clock.now += 3600
        assert (await w.deliver_due()).failed == 0
    assert await store.pending_count() == 5
    assert caplog.text.count("refused the bot's token") == 1
    notifier.refusing = False
    clock.now += 3600
    report = await w.deliver_due()
    assert report.sent == 5 and notifier.sent == ["a0", "a1", "a2", "a3", "a4"]
    assert "accepts the bot's token again" in caplog.text


async def test_flood_control_folds_what_exceeds_a_channels_rate_into_one_digest(store: SqliteStore) -> None:
    """A broad query on a busy feed: 25 alerts for one channel, 10 messages a minute allowed."""
    clock = Clock()
    notifier = ScriptedNotifier()
    await store.record_processed(
        [], [alert(f"a{i:02}", A) for i in range(25)] + [alert("b1", B)], now=clock.now
    )
    registry = NotifierRegistry()
    registry.register(notifier)
    w = DeliveryWorker(store, registry, RetryPolicy(), batch=50, channel_rate=10, paced={"test"}, clock=clock)
    report = await w.deliver_due()
    assert report.sent == 26 and await store.pending_count() == 0  # nothing dropped
    to_a = [m for m in notifier.sent if m != "b1"]
    assert to_a == [f"a{i:02}" for i in range(9)] + ["digest:a09"]  # 10 messages: 9 alone, 16 in one

    # The minute is used up: what comes next waits for the budget.
    await store.record_processed([], [alert(f"c{i}", A) for i in range(3)], now=clock.now)
    assert (await w.deliver_due()).held == 3 and len(notifier.sent) == 11
    assert await w.next_due() == pytest.approx(clock.now + 60)
    clock.now += 61  # a new minute: three alerts are within its budget, so they go as they are
    assert (await w.deliver_due()).sent == 3 and notifier.sent[-3:] == ["c0", "c1", "c2"]


async def test_flood_control_leaves_unpaced_platforms_alone(store: SqliteStore) -> None:
    clock = Clock()
    notifier = ScriptedNotifier()
    await store.record_processed([], [alert(f"a{i:02}", A) for i in range(25)], now=clock.now)
    registry = NotifierRegistry()
    registry.register(notifier)
    w = DeliveryWorker(store, registry, RetryPolicy(), batch=50, channel_rate=10, paced=(), clock=clock)
    assert (await w.deliver_due()).sent == 25 and len(notifier.sent) == 25
