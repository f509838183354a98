"""deploy/ as shipped: every command that compose.yaml, the Dockerfile and the systemd units
run exists in our CLI and accepts its arguments; nginx accepts the proxy configuration
(`nginx -t`); systemd accepts the units (`systemd-analyze verify`). Docker itself cannot run
here: the compose file is checked by reading it."""

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from django.core.management import CommandError, get_commands, load_command_class

from .servers import need_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
OUR_IMAGE = "dailypapers:latest"


def check_our_command(argv):
    """Fail unless `argv` is a dailypapers or granian command line that would start."""
    program, *args = argv
    if program == "dailypapers":
        name, *rest = args
        commands = get_commands()
        assert name in commands, f"`dailypapers {name}` is not a command"
        command = load_command_class(commands[name], name)
        try:
            command.create_parser("dailypapers", name).parse_args(rest)
        except CommandError as exc:
            pytest.fail(f"`dailypapers {shlex.join(args)}`: {exc}")
    elif program == "granian":
        from granian.cli import cli

        try:
            context = cli.make_context("granian", list(args))
        except click.ClickException as exc:
            pytest.fail(f"`granian {shlex.join(args)}`: {exc.format_message()}")
        module, _, attribute = context.params["app"].partition(":")
        assert getattr(__import__(module, fromlist=[attribute]), attribute)
    else:
        pytest.fail(f"{program} is neither dailypapers nor granian")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def our_services(compose):
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image") == OUR_IMAGE
    }


def test_compose_runs_the_whole_topology(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "scheduler", "nginx", "migrate"} <= set(services)
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["scheduler"]["deploy"]["replicas"] == 1  # never more: jobs would double
    assert "pgvector" in services["postgres"]["image"]
    for name, service in our_services(compose).items():
        environment = service["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://"), name
        assert environment["DAILYPAPERS_CACHE_URL"].startswith("redis://"), name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"


def test_every_command_compose_runs_exists_in_the_cli(compose, db):
    services = our_services(compose)
    assert len(services) >= 5
    for service in services.values():
        check_our_command([*service.get("entrypoint", []), *service["command"]])


def test_compose_refers_only_to_what_exists(compose):
    services = compose["services"]
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on a service that is not there"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), f"{name} mounts {source}: missing"
            else:
                assert source in compose["volumes"], f"{name} mounts an undeclared {source}"
    assert (DEPLOY / "env.example").is_file()  # compose reads .env, copied from it


def test_the_images_default_command_exists(db):
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    cmd = re.search(r"^CMD (\[.*\])$", text, re.MULTILINE).group(1)
    check_our_command(json.loads(cmd))


def test_nginx_accepts_both_configurations(tmp_path):
    nginx = need_binary("nginx", "apt-get install nginx-light")
    mime = Path("/etc/nginx/mime.types")
    for upstream in ("upstream-systemd.conf", "upstream-compose.conf"):
        text = (DEPLOY / "nginx" / upstream).read_text()
        # nginx -t resolves upstream names: compose's `web` exists only on Docker's network.
        (tmp_path / upstream).write_text(text.replace("server web:", "server 127.0.0.1:"))
        includes = [mime] if mime.exists() else []
        includes += [tmp_path / upstream, DEPLOY / "nginx" / "dailypapers.conf"]
        (tmp_path / "nginx.conf").write_text(
            f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
            + "http {\n"
            + "".join(f"  include {path};\n" for path in includes)
            + "}\n"
        )
        result = subprocess.run(
            [nginx, "-t", "-c", tmp_path / "nginx.conf", "-p", tmp_path],
            capture_output=True, text=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "test is successful" in result.stderr


def systemd_units(tmp_path):
    """The units with paths of this checkout: verify checks that each program exists."""
    bin_dir = Path(sys.executable).parent  # the venv's: dailypapers, granian
    for unit in (DEPLOY / "systemd").glob("dailypapers*"):
        text = unit.read_text().replace("/opt/dailypapers/.venv/bin", str(bin_dir))
        (tmp_path / unit.name).write_text(
            text.replace("/etc/dailypapers/env", str(tmp_path / "env"))
        )
    shutil.copy(DEPLOY / "systemd" / "env.example", tmp_path / "env")
    return [
        "dailypapers-web@8001.service",
        "dailypapers-worker@1.service",
        "dailypapers-scheduler.service",
        "dailypapers-migrate.service",
        "dailypapers.target",
    ]


def test_systemd_accepts_the_units(tmp_path):
    analyze = need_binary("systemd-analyze", "apt-get install systemd")
    units = systemd_units(tmp_path)
    result = subprocess.run([analyze, "verify", *units], cwd=tmp_path, capture_output=True,
                            text=True)  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_every_command_the_units_run_exists_in_the_cli(db):
    for unit in (DEPLOY / "systemd").glob("*.service"):
        for line in re.findall(r"^ExecStart(?:Pre)?=(.*)$", unit.read_text(), re.MULTILINE):
            argv = shlex.split(line.replace("%i", "8001"))
            check_our_command([Path(argv[0]).name, *argv[1:]])
