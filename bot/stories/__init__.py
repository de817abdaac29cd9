"""Same-story detection: which articles report one story, so that a channel gets one alert for it."""

from bot.stories.decide import StoryDecision
from bot.stories.detector import WINDOW, StoredEntry, StoryDetector, encode
from bot.stories.keys import story_keys

__all__ = ["WINDOW", "StoredEntry", "StoryDecision", "StoryDetector", "encode", "story_keys"]
