"""installers/: what can be checked offline: unit file, container files, compose, scripts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from photodesk.sync.config import ServerConfig

REPO = Path(__file__).resolve().parents[1]
SYSTEMD = REPO / "installers" / "systemd"
CONTAINER = REPO / "installers" / "container"


def unit_sections(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as {section: {key: [values]}} (keys may repeat, unlike INI files)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if m := re.fullmatch(r"\[(\w+)\]", line):
            current = sections.setdefault(m.group(1), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"not a unit-file line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)(s|min)?", value)
    assert m, value
    return int(m.group(1)) * (60 if m.group(2) == "min" else 1)


def test_service_runs_serve_as_its_own_user_with_hardening():
    unit = unit_sections(SYSTEMD / "photodesk.service")
    service = unit["Service"]
    assert service["ExecStart"] == ["/opt/photodesk/bin/photodesk serve"]
    assert service["User"] == ["photodesk"]
    assert service["StateDirectory"] == ["photodesk"]
    for key, value in {
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "Restart": "on-failure",
        "KillSignal": "SIGTERM",
    }.items():
        assert service[key] == [value], key
    assert service["CapabilityBoundingSet"] == [""]
    assert service["ReadWritePaths"]
    # systemd waits longer than the daemon drains requests in flight before it kills.
    assert seconds(service["TimeoutStopSec"][0]) > ServerConfig().shutdown_timeout_s
    env = dict(v.split("=", 1) for v in service["Environment"])
    # Library and uploads live in the StateDirectory, which the hardening leaves writable.
    assert env["PHOTODESK_LIBRARY"].startswith("/var/lib/photodesk/")
    assert env["PHOTODESK_STORAGE_ROOT"].startswith("/var/lib/photodesk/")
    assert env["PHOTODESK_HOST"] == "127.0.0.1"
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_service_verifies(tmp_path: Path):
    # verify also checks that ExecStart exists: point it at a program that does.
    text = (SYSTEMD / "photodesk.service").read_text()
    unit = tmp_path / "photodesk.service"
    unit.write_text(
        text.replace("/opt/photodesk/bin/photodesk", shutil.which("true") or "/bin/true")
    )
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "photodesk.service" not in proc.stderr, proc.stderr


def test_install_script_is_valid_shell_and_installs_the_unit():
    script = SYSTEMD / "install.sh"
    assert script.stat().st_mode & 0o111, "install.sh must be executable"
    subprocess.run(["sh", "-n", str(script)], check=True)
    text = script.read_text()
    for needed in (
        "useradd --system",
        "photodesk.service",
        "systemctl daemon-reload",
        "photodesk.env",
        "install -d",
    ):
        assert needed in text
    env_file = (SYSTEMD / "photodesk.env").read_text()
    assert "PHOTODESK_PUBLIC_URL" in env_file
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(script)], check=True)


def _instructions(path: Path) -> list[tuple[str, str]]:
    """A Containerfile's instructions (continuation lines joined) as (INSTRUCTION, args)."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("name", ["Containerfile", "Containerfile.cuda"])
def test_containerfile_is_multi_stage_non_root_with_a_healthcheck(name: str):
    steps = _instructions(CONTAINER / name)
    froms = [args for word, args in steps if word == "FROM"]
    assert len(froms) == 2 and froms[0].endswith("AS build")
    user = [args for word, args in steps if word == "USER"]
    assert user and not user[-1].startswith(("root", "0"))
    health = " ".join(args for word, args in steps if word == "HEALTHCHECK")
    assert "/api/health" in health
    volumes = " ".join(args for word, args in steps if word == "VOLUME")
    assert "/data/library" in volumes and "/data/uploads" in volumes
    env = " ".join(args for word, args in steps if word == "ENV")
    for setting in (
        "PHOTODESK_LIBRARY=/data/library",
        "PHOTODESK_STORAGE_ROOT=/data/uploads",
        "PHOTODESK_HOST=0.0.0.0",
    ):
        assert setting in env
    assert ("EXPOSE", "8470") in steps
    copies = [args for word, args in steps if word == "COPY"]
    # Paths are relative to the repository root (the build context).
    for src in ("pyproject.toml", "photodesk"):
        assert any(src in c for c in copies)
        assert (REPO / src).exists()
    if name.endswith("cuda"):
        assert "gpu" in " ".join(args for word, args in steps if word == "ARG")


def test_health_route_exists_in_the_daemon():
    source = (REPO / "photodesk" / "sync" / "app.py").read_text()
    assert 'add_get("/api/health"' in source


def test_compose_file_mounts_the_env_locations_and_builds_the_containerfile():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((CONTAINER / "compose.yaml").read_text())
    service = compose["services"]["photodesk-server"]
    build = service["build"]
    assert (CONTAINER / build["context"] / build["dockerfile"]).resolve() == (
        CONTAINER / "Containerfile"
    ).resolve()
    assert "${LIBRARY_LOCATION}:/data/library" in service["volumes"]
    assert "${UPLOAD_LOCATION}:/data/uploads" in service["volumes"]
    assert service["ports"] == ["${PHOTODESK_PORT:-8470}:8470"]
    assert seconds(service["stop_grace_period"]) > ServerConfig().shutdown_timeout_s
    assert service["env_file"] == [".env"]
    assert any("/api/health" in part for part in service["healthcheck"]["test"])
    env = dict(
        line.split("=", 1)
        for line in (CONTAINER / ".env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert {"LIBRARY_LOCATION", "UPLOAD_LOCATION", "PHOTODESK_PORT"} <= set(env)
    # The GPU block is there, commented, with instructions.
    assert "driver: nvidia" in (CONTAINER / "compose.yaml").read_text()


def test_reverse_proxy_snippets_lift_body_limits_and_timeouts():
    nginx = (CONTAINER / "reverse-proxy" / "nginx.conf").read_text()
    assert "client_max_body_size 0;" in nginx
    assert "proxy_request_buffering off;" in nginx
    assert "proxy_read_timeout 3600s;" in nginx
    assert "proxy_pass http://127.0.0.1:8470;" in nginx
    caddy = (CONTAINER / "reverse-proxy" / "Caddyfile").read_text()
    assert "reverse_proxy 127.0.0.1:8470" in caddy and "read_timeout 1h" in caddy
    yaml = pytest.importorskip("yaml")
    traefik = yaml.safe_load((CONTAINER / "reverse-proxy" / "traefik.yaml").read_text())
    servers = traefik["http"]["services"]["photodesk"]["loadBalancer"]["servers"]
    assert servers == [{"url": "http://127.0.0.1:8470"}]
    assert "readTimeout: 0" in (CONTAINER / "reverse-proxy" / "traefik.yaml").read_text()


def _engine() -> str | None:
    return shutil.which("podman") or shutil.which("docker")


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("PHOTODESK_CONTAINER_IMAGE"),
    reason="no image to run: build installers/container/Containerfile and set "
    "PHOTODESK_CONTAINER_IMAGE (base images cannot be pulled on the development machines)",
)
@pytest.mark.skipif(not _engine(), reason="no container engine (podman or docker)")
def test_the_built_image_serves_as_a_non_root_user(tmp_path: Path):
    image = os.environ["PHOTODESK_CONTAINER_IMAGE"]
    engine = _engine()
    assert engine
    run = [engine, "run", "--rm"]
    if os.environ.get("PHOTODESK_CONTAINER_RUN_ARGS"):
        run += os.environ["PHOTODESK_CONTAINER_RUN_ARGS"].split()
    out = subprocess.run(
        [
            *run,
            "--entrypoint",
            "sh",
            image,
            "-c",
            "id -u; photodesk --version; ls -d /data/library /data/uploads",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    uid, version, *_ = out.stdout.split("\n")
    assert uid != "0"
    assert version.startswith("photodesk ")
    # The daemon starts with the image's settings and answers its health check and the ping.
    script = (
        "photodesk serve & "
        'for i in $(seq 60); do python -c "import json, urllib.request as u; '
        "print(u.urlopen('http://127.0.0.1:8470/api/health').status, "
        "json.load(u.urlopen('http://127.0.0.1:8470/api/server/ping'))['res'])\" && break; "
        "sleep 1; done; kill -TERM %1; wait"
    )
    out = subprocess.run(
        [*run, "--entrypoint", "sh", image, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert "200 pong" in out.stdout, out.stdout + out.stderr
