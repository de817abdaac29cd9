-- 006: claiming the next due alerts without scanning the outbox. The pending alerts in queue order
-- (rowid), apart from the sent ones that accumulate (due_alerts names this index, so the order needs no
-- sort), and the alerts backing off by channel, so that "an earlier alert of this channel is backing off"
-- reads those few instead of every pending alert before it. Measured on 100,000 pending alerts across
-- 1,000 channels beside 100,000 sent ones: a claim of 50 took 7.8 ms before, 0.1 ms after; with 19,000
-- pending in one channel, most held by a mute or digest, 84 ms before, 1.3 ms after. And a channel's
-- recent messages, for flood control, without reading its whole history.

CREATE INDEX outbox_pending_queue ON outbox (status) WHERE status = 'pending';
CREATE INDEX outbox_backing_off ON outbox (channel_key, next_attempt_at) WHERE status = 'pending' AND attempts > 0;
CREATE INDEX outbox_recent_sends ON outbox (channel_key, sent_at) WHERE status = 'sent';
