"""Reading ``config.yaml``: YAML with the line of every key, ``${VAR}`` expansion, the schema's
validation, then what needs the whole config (a token variable an enabled platform names is unset, a
web server that Slack's HTTP mode needs, text kept as long as the story window). Every problem is
reported at once, with its key path and line."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from bot.config.schema import Config
from bot.core.errors import ConfigError, ConfigProblem

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

_ADAPTER = TypeAdapter(Config)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate a config file. Raises :class:`ConfigError` listing every problem."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), f"cannot read config file: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        byte = exc.object[exc.start]
        reason = f"not UTF-8 text: byte 0x{byte:02x} cannot be decoded; save the file as UTF-8"
        raise ConfigError([ConfigProblem(str(path), reason, line)]) from exc
    return parse_config(source, base_dir=path.resolve().parent, env=os.environ if env is None else env)


def parse_config(source: str, *, base_dir: Path | str = ".", env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigProblem("(file)", f"malformed YAML: {problem}", line)]) from exc
    lines = _line_map(node) if node is not None else {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem("(file)", "the top level must be a mapping of keys", 1)])

    problems: list[ConfigProblem] = []
    missing_env: list[tuple[tuple[str | int, ...], str]] = []
    expanded = _expand(data, (), env, missing_env)
    expanded.pop("base_dir", None)
    try:
        config = _ADAPTER.validate_python({**expanded, "base_dir": str(base_dir)})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(ConfigProblem(_dotted(loc), _message(err), _nearest_line(lines, loc)))
        raise ConfigError(problems) from None
    problems.extend(_missing_env_problems(config, missing_env, lines, env))
    problems.extend(_slack_web_problems(config, lines))
    problems.extend(_retention_problems(config, lines))
    if problems:
        raise ConfigError(problems)
    return config


def _slack_web_problems(config: Config, lines: dict[tuple[str | int, ...], int]) -> list[ConfigProblem]:
    """Slack's HTTP mode and its install pages are served by the bot's web server."""
    slack, problems = config.platforms.slack, []
    if not slack.enabled or config.web.enabled:
        return []
    if slack.mode == "http":
        line = _nearest_line(lines, ("platforms", "slack", "mode"))
        problems.append(
            ConfigProblem(
                "platforms.slack.mode", "http mode needs the web server: set web.enabled: true", line
            )
        )
    if slack.oauth is not None:
        line = _nearest_line(lines, ("platforms", "slack", "oauth"))
        why = "the install pages are served by the bot's web server: set web.enabled: true"
        problems.append(ConfigProblem("platforms.slack.oauth", why, line))
    return problems


def _retention_problems(config: Config, lines: dict[tuple[str | int, ...], int]) -> list[ConfigProblem]:
    keep, window = config.store.keep_text, config.stories.window
    if not keep or keep >= window:
        return []
    reason = (
        f"{keep / 3600:g}h is shorter than stories.window ({window / 3600:g}h): the story window is rebuilt "
        "from the articles it holds; keep text at least that long, or 0 to keep it forever"
    )
    return [ConfigProblem("store.keep_text", reason, _nearest_line(lines, ("store", "keep_text")))]


def _expand(
    value: Any,
    loc: tuple[str | int, ...],
    env: Mapping[str, str],
    missing: list[tuple[tuple[str | int, ...], str]],
) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, (*loc, k), env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, (*loc, i), env, missing) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in env:
            missing.append((loc, name))
            return ""
        return env[name]

    return _ENV_REF.sub(substitute, value)


def _missing_env_problems(
    config: Config,
    missing: list[tuple[tuple[str | int, ...], str]],
    lines: dict[tuple[str | int, ...], int],
    env: Mapping[str, str],
) -> list[ConfigProblem]:
    """A missing variable only matters where it is used: under a disabled platform it is ignored."""
    enabled = config.platforms.enabled()
    problems = []
    for loc, name in missing:
        if len(loc) >= 2 and loc[0] == "platforms" and str(loc[1]) not in enabled:
            continue
        problems.append(
            ConfigProblem(_dotted(loc), f"environment variable {name} is not set", _nearest_line(lines, loc))
        )
    required = [
        (f"platforms.{name}.{key}", var)
        for name, section in config.platforms.sections()
        if name in enabled
        for key, var in section.required_env()
    ]
    if config.summary.llm.enabled:
        required.append(("summary.llm.api_key_env", config.summary.llm.api_key_env))
    for key, var in required:
        if not env.get(var):
            loc = tuple(key.split("."))
            problems.append(
                ConfigProblem(key, f"environment variable {var} is not set", _nearest_line(lines, loc))
            )
    return problems


def _message(err: Any) -> str:
    kind = err["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _dotted(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in {"function-after", "function-before"} or str(part).startswith(
            ("tuple[", "bool", "literal")
        ):
            continue
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(file)"


def _nearest_line(lines: dict[tuple[str | int, ...], int], loc: tuple[Any, ...]) -> int | None:
    clean = tuple(p for p in loc if isinstance(p, int) or p in _all_keys(lines))
    while clean:
        if clean in lines:
            return lines[clean]
        clean = clean[:-1]
    return None


def _all_keys(lines: dict[tuple[str | int, ...], int]) -> set[str | int]:
    return {part for key in lines for part in key}


def _line_map(node: yaml.Node, loc: tuple[str | int, ...] = ()) -> dict[tuple[str | int, ...], int]:
    """Map each key path to its 1-based line in the YAML source."""
    out: dict[tuple[str | int, ...], int] = {loc: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*loc, str(key_node.value))
            out.update(_line_map(value_node, key))
            out[key] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_line_map(item, (*loc, i)))
    return out
