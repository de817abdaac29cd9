-- 008: same-story detection. Each article's place in the story window (its weighted words, names and
-- headline facts, as bot/stories encodes them), so that a restart rebuilds the window the bot had;
-- and how its story was decided, for /news why. Articles recorded before keep '' (not in the window).

ALTER TABLE articles ADD COLUMN story_entry TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN story_why TEXT NOT NULL DEFAULT '';
