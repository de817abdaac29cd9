"""``config.yaml`` to frozen dataclasses: the schema (:mod:`bot.config.schema`) and reading a file into
it (:mod:`bot.config.load`).

Every problem in a file is reported at once, each with its key path and, where YAML knows it, its
line: a user fixes a config in one pass, not one error per run. ``${VAR}`` anywhere in a string is
replaced by the environment variable. Chat tokens are never written in the file: the file names the
environment variable that holds each one (``token_env``).
"""

from bot.config.load import load_config, parse_config
from bot.config.schema import (
    DEFAULT_STORE_PATH,
    Config,
    DeliveryConfig,
    ExtractionConfig,
    FeedConfig,
    FeedHealthConfig,
    LlmConfig,
    LoggingConfig,
    MatchingConfig,
    PlatformsConfig,
    PollingConfig,
    SafetyConfig,
    StoreConfig,
    StoriesConfig,
    SubscriptionConfig,
    SummaryConfig,
    WebConfig,
)

__all__ = [
    "DEFAULT_STORE_PATH",
    "Config",
    "DeliveryConfig",
    "ExtractionConfig",
    "FeedConfig",
    "FeedHealthConfig",
    "LlmConfig",
    "LoggingConfig",
    "MatchingConfig",
    "PlatformsConfig",
    "PollingConfig",
    "SafetyConfig",
    "StoreConfig",
    "StoriesConfig",
    "SubscriptionConfig",
    "SummaryConfig",
    "WebConfig",
    "load_config",
    "parse_config",
]
