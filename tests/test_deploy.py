"""The container image's own commands, run as real processes outside a container (no engine here can
pull its base image): /app laid out by the Dockerfile's own WORKDIR and COPY lines, its CMD and its
HEALTHCHECK read from the Dockerfile, and ``newsbot health`` against a bot that is up, a server that
says it is not, nothing at all, and configs it cannot use. Also: the lock the image installs from
covers every requirement of pyproject.toml.

(.ci/image-check runs the same commands from the built wheel; these run them from the checkout.)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from aiohttp import web
from packaging.requirements import Requirement

from bot.config import load_config
from bot.platforms import DiscordSettings, SlackSettings
from tests.conftest import REPO, write_config

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def final_stage() -> list[str]:
    """The runtime stage's instructions, one a line (continuations joined)."""
    lines = [line.strip() for line in DOCKERFILE.replace("\\\n", " ").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    last_from = max(i for i, line in enumerate(instructions) if line.startswith("FROM "))
    return instructions[last_from:]


def instruction(name: str) -> str:
    [*_, line] = (line for line in final_stage() if line.startswith(name + " "))
    return line.removeprefix(name + " ")


def exec_form(name: str) -> list[str]:
    """The JSON array of ENTRYPOINT, CMD or HEALTHCHECK ... CMD."""
    text = instruction(name)
    words: list[str] = json.loads(text[text.index("[") :])
    return words


def as_process(words: list[str]) -> list[str]:
    """The image's ``newsbot`` console script is this checkout's ``python -m bot``."""
    assert words[0] == "newsbot"
    return [sys.executable, "-m", "bot", *words[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def image_env() -> dict[str, str]:
    """This environment without the variables the image may set, plus the image's own ENV."""
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSBOT_WEBHOOK_SECRET", "NEWSBOT_CONFIG")}
    return {**env, **dockerfile_env(), "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(REPO)}


def dockerfile_env() -> dict[str, str]:
    pairs = [
        pair.split("=", 1) for line in final_stage() if line.startswith("ENV ") for pair in line.split()[1:]
    ]
    return {name: value for name, value in pairs}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60, env=image_env())


def web_config(path: Path, **web_settings: object) -> Path:
    path.write_text(yaml.safe_dump({"web": web_settings}), encoding="utf-8")
    return path


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """The image's WORKDIR with what the runtime stage COPYs into it (from the build context, not from
    the build stage), its config moved to a free port."""
    root = tmp_path / "image"
    workdir = root / instruction("WORKDIR").lstrip("/")
    workdir.mkdir(parents=True)
    for line in final_stage():
        if line.startswith("COPY ") and "--from=" not in line:
            source, target = line.split()[1:]
            destination = workdir / target
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, destination)
            else:
                shutil.copy(REPO / source, destination)
    (workdir / "data").mkdir(exist_ok=True)
    config = workdir / "config.yaml"
    text = config.read_text(encoding="utf-8")
    port = yaml.safe_load(text)["web"]["port"]
    config.write_text(text.replace(f"port: {port}", f"port: {free_port()}"), encoding="utf-8")
    return workdir


@pytest.fixture
def running_image(app_dir: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        as_process(exec_form("ENTRYPOINT") + exec_form("CMD")),
        cwd=app_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=image_env(),
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)


def test_the_image_runs_as_a_user_and_exposes_the_port_its_config_serves() -> None:
    assert instruction("USER") not in ("root", "0")
    config = yaml.safe_load((REPO / "deploy" / "config.yaml").read_text(encoding="utf-8"))
    assert config["web"]["enabled"] is True and config["web"]["host"] == "127.0.0.1"
    assert instruction("EXPOSE") == str(config["web"]["port"])
    assert exec_form("ENTRYPOINT") == ["newsbot"]
    assert exec_form("HEALTHCHECK")[:2] == ["newsbot", "health"]
    assert dockerfile_env()["NEWSBOT_CONFIG"] == "config.yaml"  # what CMD and HEALTHCHECK both read


def test_the_images_healthcheck_passes_once_its_cmd_is_up_and_it_stops_cleanly(
    app_dir: Path, running_image: subprocess.Popen[str]
) -> None:
    healthcheck = as_process(exec_form("HEALTHCHECK"))
    deadline = time.monotonic() + 30
    while (check := run(healthcheck, app_dir)).returncode != 0:
        assert running_image.poll() is None, running_image.communicate()[1]
        assert time.monotonic() < deadline, check.stderr
        time.sleep(0.2)
    assert check.stdout.startswith("healthy: http://127.0.0.1:")

    # No webhook secret in the environment: the server is up for health checks, push intake is off.
    port = yaml.safe_load((app_dir / "config.yaml").read_text(encoding="utf-8"))["web"]["port"]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/articles", data=b'{"id": "x"}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10)
    assert refused.value.code == 403
    assert "push intake is off" in json.loads(refused.value.read())["error"]

    running_image.send_signal(signal.SIGTERM)
    out, err = running_image.communicate(timeout=30)
    assert running_image.returncode == 0, err
    assert "━━━" in out  # the bundled samples alerted in the container's log
    assert "Traceback" not in err
    assert (app_dir / "data" / "newsbot.db").exists()


@pytest.fixture
async def health_server() -> AsyncIterator[tuple[int, dict[str, object]]]:
    """A server on 127.0.0.1 whose /healthz answers what the test puts in ``reply``."""
    reply: dict[str, object] = {"status": 200, "body": {"status": "ok"}}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response(reply["body"], status=int(str(reply["status"])))

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield port, reply
    await runner.cleanup()


async def test_health_believes_only_an_ok_status_and_asks_loopback_for_a_wildcard_host(
    tmp_path: Path, health_server: tuple[int, dict[str, object]]
) -> None:
    port, reply = health_server
    config = web_config(tmp_path / "c.yaml", enabled=True, host="0.0.0.0", port=port)

    async def health() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot", "health", str(config)]
        proc = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=image_env()
        )
        out, err = await proc.communicate()
        return subprocess.CompletedProcess(command, proc.returncode or 0, out.decode(), err.decode())

    ok = await health()
    assert (ok.returncode, ok.stdout) == (0, f"healthy: http://127.0.0.1:{port}/healthz\n")
    reply["body"] = {"status": "down"}
    down = await health()
    assert down.returncode == 1 and "says status 'down'" in down.stderr
    reply.update(status=404, body={"error": "not found"})
    missing = await health()
    assert missing.returncode == 1 and "answered HTTP 404" in missing.stderr


def test_health_says_unhealthy_in_one_line_when_nothing_answers(tmp_path: Path) -> None:
    config = web_config(tmp_path / "c.yaml", enabled=True, port=free_port())
    check = run(as_process(["newsbot", "health", "--timeout", "2", str(config)]), tmp_path)
    assert check.returncode == 1
    [line] = check.stderr.splitlines()
    assert line.startswith("unhealthy: http://127.0.0.1:") and "/healthz" in line


def test_health_fails_with_exit_1_when_the_config_has_no_web_server_or_is_broken(tmp_path: Path) -> None:
    """Never 2: Docker reserves that exit code of a health check."""
    config = write_config(tmp_path)
    check = run(as_process(["newsbot", "health", str(config)]), REPO)
    assert check.returncode == 1
    assert check.stderr == (
        f"unhealthy: {config} turns the web server off (web.enabled, web.port), so there is no /healthz "
        "to ask\n"
    )
    broken = web_config(tmp_path / "broken.yaml", enabled="maybe")
    check = run(as_process(["newsbot", "health", str(broken)]), REPO)
    assert check.returncode == 1
    assert check.stderr.startswith(f"unhealthy: config error in {broken}: web.enabled (line 2)")


def test_the_config_path_may_be_given_with_or_without_the_flag_or_in_the_environment(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    plain = run(as_process(["newsbot", "check", str(config)]), REPO)
    flagged = run(as_process(["newsbot", "check", "--config", str(config)]), REPO)
    env = {**image_env(), "NEWSBOT_CONFIG": str(config)}
    from_env = subprocess.run(
        as_process(["newsbot", "check"]), cwd=REPO, capture_output=True, text=True, env=env, timeout=60
    )
    assert plain.returncode == flagged.returncode == from_env.returncode == 0
    assert plain.stdout == flagged.stdout == from_env.stdout == f"{config}: OK (2 feeds, 2 subscriptions)\n"
    both = run(as_process(["newsbot", "check", str(config), "--config", str(REPO / "config.yaml")]), REPO)
    assert both.returncode == 2 and "two config files given" in both.stderr


def test_check_notes_that_push_intake_will_be_off_without_a_secret(app_dir: Path) -> None:
    check = run(as_process(["newsbot", "check", "config.yaml"]), app_dir)
    assert check.returncode == 0 and check.stdout.startswith("config.yaml: OK")
    assert (
        check.stderr
        == "note: NEWSBOT_WEBHOOK_SECRET is not set, so push intake (POST /articles) will be off\n"
    )


def test_the_lock_pins_every_requirement_of_pyproject_within_its_range() -> None:
    """`make lock` was run after the last change to pyproject.toml's requirements."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [
        Requirement(r) for r in project["project"]["dependencies"] + project["build-system"]["requires"]
    ]
    pins = dict(
        re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", (REPO / "requirements.lock").read_text(), re.MULTILINE)
    )
    normalised = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins.items()}
    unpinned = []
    for requirement in wanted:
        version = normalised.get(re.sub(r"[-_.]+", "-", requirement.name).lower())
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            unpinned.append(f"{requirement} (lock: {version})")
    assert unpinned == []
    assert "pip" in normalised  # the image brings pip to the locked version before it reads the lock


COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
WORKERS = ("bot-1", "bot-2")


def compose_config() -> dict[str, Any]:
    """The config file each worker mounts as the image's config (both mount the same one: checked below)."""
    [mount] = [m for m in COMPOSE["services"]["bot-1"]["volumes"] if m.split(":")[1] == "/app/config.yaml"]
    config: dict[str, Any] = yaml.safe_load((REPO / mount.split(":")[0]).read_text(encoding="utf-8"))
    return config


def test_compose_mounts_files_that_exist_where_the_image_reads_its_config() -> None:
    """(No container engine runs here: compose.yaml is read, never brought up.)"""
    for name, service in COMPOSE["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (REPO / source).is_file(), f"{name} mounts {source}, which is not in the repository"
    assert f"{instruction('WORKDIR')}/{dockerfile_env()['NEWSBOT_CONFIG']}" == "/app/config.yaml"
    for worker in WORKERS:
        assert COMPOSE["services"][worker]["build"] == "."
        assert COMPOSE["services"][worker]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_compose_healthchecks_run_commands_that_exist() -> None:
    postgres = COMPOSE["services"]["postgres"]
    [shell, probe] = postgres["healthcheck"]["test"]
    env = postgres["environment"]
    assert shell == "CMD-SHELL" and probe == f"pg_isready -U {env['POSTGRES_USER']} -d {env['POSTGRES_DB']}"
    for worker in WORKERS:
        kind, *command = COMPOSE["services"][worker]["healthcheck"]["test"]
        assert kind == "CMD" and command == exec_form("HEALTHCHECK")  # the image's own
        assert run([*as_process(command), "--help"], REPO).returncode == 0


def test_every_variable_the_compose_config_needs_is_passed_to_each_worker() -> None:
    config = compose_config()
    needed = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", yaml.safe_dump(config)))
    platforms = {"discord": DiscordSettings, "slack": SlackSettings}
    for name, settings in platforms.items():
        section = config["platforms"][name]
        if section.get("enabled"):
            needed |= {var for _, var in settings(**section).required_env()}
    assert needed >= {"POSTGRES_PASSWORD", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"}
    for worker in WORKERS:
        passed = set(COMPOSE["services"][worker]["environment"])
        assert needed <= passed, f"{worker} is not given {sorted(needed - passed)}"


def test_both_workers_use_the_one_postgres_database_of_the_compose_file() -> None:
    mounts = {tuple(COMPOSE["services"][worker]["volumes"]) for worker in WORKERS}
    assert len(mounts) == 1  # one config file for the fleet
    store = compose_config()["store"]
    assert "path" not in store  # exactly one of store.path and store.url
    url = urlsplit(store["url"])
    postgres = COMPOSE["services"]["postgres"]["environment"]
    assert (url.scheme, url.hostname, url.port) == ("postgresql", "postgres", 5432)
    assert (url.username, url.path) == (postgres["POSTGRES_USER"], "/" + postgres["POSTGRES_DB"])
    assert url.password == "${POSTGRES_PASSWORD}" and "POSTGRES_PASSWORD" in postgres["POSTGRES_PASSWORD"]
    assert COMPOSE["services"]["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]


def test_the_compose_config_is_a_valid_config() -> None:
    env = {"POSTGRES_PASSWORD": "pw", "SLACK_BOT_TOKEN": "xoxb", "SLACK_APP_TOKEN": "xapp"}
    load_config(REPO / "deploy" / "compose-config.yaml", env=env)
