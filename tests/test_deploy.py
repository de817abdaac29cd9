"""The container image's own commands, run as real processes outside a container: its /app laid out as
the Dockerfile copies it, its CMD and its HEALTHCHECK read from the Dockerfile itself, and `newsbot health`
against a bot that is up, one that is not, and a config with no web server.

(.ci/image-check runs the same commands from the built wheel; these run them from the checkout.)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, REPO, write_config

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def dockerfile_exec_form(instruction: str) -> list[str]:
    """The JSON array of the last ``instruction`` (ENTRYPOINT, CMD, HEALTHCHECK ... CMD) in the Dockerfile."""
    lines = DOCKERFILE.replace("\\\n", " ").splitlines()
    [*_, line] = (line for line in lines if line.startswith(instruction + " "))
    words: list[str] = json.loads(line[line.index("[") :])
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


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60, env=image_env())


def image_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSBOT_WEBHOOK_SECRET"}
    return {**env, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(REPO)}


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """/app of the image: deploy/config.yaml as config.yaml (on a free port here), examples/, data/."""
    app = tmp_path / "app"
    app.mkdir()
    config = yaml.safe_load((REPO / "deploy" / "config.yaml").read_text(encoding="utf-8"))
    assert config["web"] == {"enabled": True, "host": "127.0.0.1", "port": 8080}
    text = (REPO / "deploy" / "config.yaml").read_text(encoding="utf-8")
    (app / "config.yaml").write_text(text.replace("port: 8080", f"port: {free_port()}"), encoding="utf-8")
    shutil.copytree(EXAMPLES, app / "examples")
    (app / "data").mkdir()
    return app


@pytest.fixture
def running_image(app_dir: Path) -> Iterator[subprocess.Popen[str]]:
    entrypoint, cmd = dockerfile_exec_form("ENTRYPOINT"), dockerfile_exec_form("CMD")
    proc = subprocess.Popen(
        as_process(entrypoint + cmd),
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


def test_the_images_healthcheck_passes_once_its_cmd_is_up_and_it_stops_cleanly(
    app_dir: Path, running_image: subprocess.Popen[str]
) -> None:
    healthcheck = as_process(dockerfile_exec_form("HEALTHCHECK"))
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
    assert refused.value.code == 503
    assert "push intake is off" in json.loads(refused.value.read())["error"]

    running_image.send_signal(signal.SIGTERM)
    out, err = running_image.communicate(timeout=30)
    assert running_image.returncode == 0, err
    assert "━━━" in out  # the bundled samples alerted in the container's log
    assert "Traceback" not in err
    assert (app_dir / "data" / "newsbot.db").exists()


def test_health_says_unhealthy_in_one_line_when_nothing_answers(app_dir: Path) -> None:
    check = run(as_process(["newsbot", "health", "--timeout", "2"]), app_dir)
    assert check.returncode == 1
    [line] = check.stderr.splitlines()
    assert line.startswith("unhealthy: http://127.0.0.1:") and "/healthz" in line


def test_health_is_a_user_error_when_the_config_has_no_web_server(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    check = run(as_process(["newsbot", "health", str(config)]), REPO)
    assert check.returncode == 2
    assert (
        check.stderr
        == f"error: {config}: the web server is off (web.enabled, web.port), so there is no /healthz\n"
    )


def test_the_config_path_may_be_given_with_or_without_the_flag(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    plain = run(as_process(["newsbot", "check", str(config)]), REPO)
    flagged = run(as_process(["newsbot", "check", "--config", str(config)]), REPO)
    assert plain.returncode == flagged.returncode == 0
    assert plain.stdout == flagged.stdout == f"{config}: OK (2 feeds, 2 subscriptions)\n"
