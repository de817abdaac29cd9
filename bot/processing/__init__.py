"""Articles in, alerts queued: dedupe, story, match, alert, summarise. The decisions are pure
modules (stories, alerts); the pipeline does the store calls around them."""
