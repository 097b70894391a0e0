"""docker-compose.yml cannot run here (no Docker engine), so it is checked against the code:
every service's command exists, every port matches what the program listens on, and every
environment variable it sets is one the program (or its configuration) really reads.

Run: cd backend && .venv/bin/python -m pytest ../tests/deploy -q
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")

# Where each service's program reads its environment.
SOURCES = {
    "migrate": ["backend/src/ledger"],
    "backend": ["backend/src/ledger"],
    "gateway": ["backend/src/gateway", "backend/src/ledger/settings.py"],
    "events": ["backend/src/ledger"],
    "actions": ["bot/actions"],
    "rasa-1": ["bot/addons"],
    "rasa-2": ["bot/addons"],
}
# Read by the official images themselves, not by project code.
IMAGE_VARS = {
    "postgres": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"},
    "rabbitmq": {"RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"},
}


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error}; $$ stays a literal $."""
    env = env or {}

    def sub(match: re.Match) -> str:
        text = match.group(0)
        name = match.group(1)
        if name in env:
            return env[name]
        if ":-" in text:
            return text.split(":-", 1)[1][:-1]
        return f"<{name}>"

    return INTERPOLATION.sub(sub, value.replace("$$", "\0")).replace("\0", "$")


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(str(v)) for k, v in env.items()}


def command(service: str) -> list[str]:
    cmd = SERVICES[service]["command"]
    parts = shlex.split(cmd) if isinstance(cmd, str) else [interpolate(str(c)) for c in cmd]
    if parts[:2] == ["sh", "-c"]:
        return shlex.split(parts[2])
    return parts


def source_text(paths: list[str]) -> str:
    chunks = []
    for rel in paths:
        path = REPO / rel
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        chunks.extend(f.read_text(encoding="utf-8") for f in files)
    return "\n".join(chunks)


def rasa_files(service: str) -> list[Path]:
    """The bot files a Rasa replica runs with: the options of its command plus the Telegram variant."""
    parts = command(service)
    names = [option(parts, "--endpoints"), option(parts, "--credentials"), "credentials-telegram.yml"]
    return [REPO / "bot" / name for name in names]


def config_text(service: str) -> str:
    """Configuration files the service reads: compose configs, and for Rasa the bot's own files."""
    names = [c["source"] if isinstance(c, dict) else c for c in SERVICES[service].get("configs", [])]
    chunks = [config(n) for n in names]
    if service.startswith("rasa-"):
        for path in rasa_files(service):  # comments may mention ${VAR} without reading it
            chunks += [
                line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")
            ]
    return "\n".join(chunks)


def config(name: str) -> str:
    """A config's content as the container sees it (after Compose's interpolation)."""
    return interpolate(COMPOSE["configs"][name]["content"])


def option(parts: list[str], flag: str) -> str:
    return parts[parts.index(flag) + 1]


def test_the_topology_has_every_part():
    assert set(SERVICES) == {
        "postgres",
        "redis",
        "rabbitmq",
        "migrate",
        "backend",
        "events",
        "actions",
        "rasa-1",
        "rasa-2",
        "gateway",
    }
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, name


@pytest.mark.parametrize("service", sorted(SOURCES))
def test_every_environment_variable_is_read_by_the_service(service):
    code = source_text(SOURCES[service])
    configs = config_text(service)
    for name in environment(service):
        read_by_code = re.search(rf"[\"']{name}[\"']", code) is not None
        read_by_config = f"${{{name}}}" in configs
        assert read_by_code or read_by_config, f"{service}: {name} is set but nothing reads it"


def test_image_services_only_set_what_their_image_reads():
    assert set(environment("postgres")) <= IMAGE_VARS["postgres"]
    assert set(environment("rabbitmq")) <= IMAGE_VARS["rabbitmq"]
    assert "environment" not in SERVICES["redis"]


def test_every_variable_a_rasa_config_uses_is_set():
    for replica in ("rasa-1", "rasa-2"):
        env = environment(replica)
        for var in re.findall(r"\$\{([A-Z0-9_]+)\}", config_text(replica)):
            assert var in env, f"{replica}: its configuration reads {var}, which is not set"


def test_ledger_commands_exist_and_ports_match_the_settings():
    cli = (REPO / "backend/src/ledger/cli.py").read_text(encoding="utf-8")
    for service in ("migrate", "backend", "events"):
        parts = command(service)
        for i, word in enumerate(parts):
            if word == "ledger":
                assert re.search(rf'add_parser\(\s*"{parts[i + 1]}"', cli), f"ledger has no {parts[i + 1]} command"
    settings = (REPO / "backend/src/ledger/settings.py").read_text(encoding="utf-8")
    assert environment("backend")["LEDGER_PORT"] == "8080"
    assert 'env.get("LEDGER_PORT", "8080")' in settings
    assert SERVICES["backend"]["ports"][0].endswith(":8080")


def test_gateway_command_port_and_targets():
    main = (REPO / "backend/src/gateway/__main__.py").read_text(encoding="utf-8")
    parts = command("gateway")
    assert parts[:3] == ["python", "-m", "gateway"] and f'add_parser("{parts[3]}"' in main
    env = environment("gateway")
    assert env["GATEWAY_PORT"] == "8090" and SERVICES["gateway"]["ports"][0].endswith(":8090")
    from gateway.settings import GatewaySettings

    assert GatewaySettings.from_env({}).port == 8090
    parsed = GatewaySettings.from_env(env)
    assert parsed.port == 8090 and parsed.host == "0.0.0.0"
    for url in parsed.rasa_urls:
        host, port = urlparse(url).hostname, urlparse(url).port
        assert host in SERVICES and host.startswith("rasa-"), url
        assert option(command(host), "--port") == str(port)
    assert len(parsed.rasa_urls) == 2
    assert urlparse(parsed.redis_url).hostname == "redis"
    assert urlparse(parsed.ledger_url).hostname == "backend" and urlparse(parsed.ledger_url).port == 8080
    assert "--enable-api" in command("rasa-1")  # hand-back slots go through Rasa's HTTP API
    assert env["GATEWAY_SYSTEM_SECRET"] == "<GATEWAY_SYSTEM_SECRET>"  # signs the hand-back intent


def test_rasa_api_takes_a_jwt_only_and_is_not_published():
    """Shared protocol 6: the gateway signs an HS256 JWT with RASA_JWT_SECRET; no URL token, no CORS."""
    for replica in ("rasa-1", "rasa-2"):
        parts = command(replica)
        assert option(parts, "--jwt-secret") == "<RASA_JWT_SECRET>" and option(parts, "--jwt-method") == "HS256"
        assert "--auth-token" not in parts and "--cors" not in parts
        assert "ports" not in SERVICES[replica]  # 0.0.0.0 inside the compose network only
    assert environment("gateway")["RASA_JWT_SECRET"] == "<RASA_JWT_SECRET>"
    assert "RASA_TOKEN" not in environment("gateway")


def test_every_database_url_points_at_the_postgres_service():
    for service in ("migrate", "backend", "gateway"):
        url = urlparse(environment(service)["DATABASE_URL"])
        assert url.scheme == "postgresql+asyncpg" and url.hostname == "postgres" and url.port == 5432
        assert url.path == "/" + environment("postgres")["POSTGRES_DB"]


def test_action_server_and_rasa_replicas_agree():
    parts = command("actions")
    # the project's entry point (the X-Action-Secret check), not rasa_sdk's open server
    assert parts[:3] == ["python", "-m", "actions.server"] and (REPO / "bot/actions/server.py").is_file()
    action_port = option(parts, "--port")
    actions_env = environment("actions")
    assert actions_env["ACTION_SERVER_SECRET"] == "<ACTION_SERVER_SECRET>"  # required, from the operator
    assert actions_env["ACTION_SERVER_HOST"] == "0.0.0.0"  # the replicas reach it over the compose network
    assert actions_env["GATEWAY_SYSTEM_SECRET"] == "<GATEWAY_SYSTEM_SECRET>"  # checks the gateway's hand-backs
    endpoints = yaml.safe_load((REPO / "bot" / option(command("rasa-1"), "--endpoints")).read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["headers"] == {"X-Action-Secret": "${ACTION_SERVER_SECRET}"}
    ledger = urlparse(environment("actions")["LEDGER_URL"])
    assert ledger.hostname == "backend" and ledger.port == 8080
    client = (REPO / "bot/actions/ledger_client.py").read_text(encoding="utf-8")
    assert '"LEDGER_URL"' in client and '"LEDGER_API_TOKEN"' in client
    for replica in ("rasa-1", "rasa-2"):
        assert environment(replica)["ACTION_SERVER_SECRET"] == actions_env["ACTION_SERVER_SECRET"]
        action = urlparse(environment(replica)["ACTION_SERVER_URL"])
        assert action.hostname == "actions" and str(action.port) == action_port and action.path == "/webhook"
        parts = command(replica)
        assert parts[:2] == ["rasa", "run"] and option(parts, "--port") == "5005"
        for path in rasa_files(replica):
            assert path.is_file(), f"{replica} runs with {path.name}, which bot/ does not have"


def test_rasa_replicas_share_a_redis_lock_store_and_a_postgresql_tracker_store():
    endpoints = yaml.safe_load((REPO / "bot" / option(command("rasa-1"), "--endpoints")).read_text(encoding="utf-8"))
    assert endpoints["tracker_store"]["type"] == "addons.tracker_store.RedactingSQLTrackerStore"
    assert endpoints["lock_store"]["type"] == "addons.lock_store.EnvLockStore"
    env = environment("rasa-1")
    lock = urlparse(env["RASA_LOCK_STORE_URL"])
    assert lock.scheme == "redis" and lock.hostname == "redis" and lock.port == 6379
    tracker = urlparse(env["RASA_TRACKER_DB_URL"])
    assert tracker.scheme == "postgresql" and tracker.hostname == "postgres" and tracker.port == 5432
    assert f"CREATE DATABASE {tracker.path.lstrip('/')}" in config("postgres_init")
    assert environment("rasa-1") == environment("rasa-2")


def test_telegram_credentials_are_read_from_the_environment_only():
    text = (REPO / "bot/credentials-telegram.yml").read_text(encoding="utf-8")
    for key, var in (
        ("access_token", "TELEGRAM_ACCESS_TOKEN"),
        ("verify", "TELEGRAM_VERIFY"),
        ("webhook_url", "TELEGRAM_WEBHOOK_URL"),
    ):
        # Rasa substitutes ${VAR} only in unquoted scalars.
        assert re.search(rf"^\s+{key}: \${{{var}}}\s*$", text, re.M), key
    plain = yaml.safe_load((REPO / "bot/credentials.yml").read_text(encoding="utf-8"))
    assert set(plain) == {"rest", "socketio"}


def test_secrets_are_never_written_into_the_file():
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    for name in ("POSTGRES_PASSWORD", "LEDGER_API_TOKEN", "ID_HASH_SALT", "RASA_JWT_SECRET", "GATEWAY_SYSTEM_SECRET"):
        for value in re.findall(rf"{name}: (.+)", text):
            assert value.startswith("${"), f"{name} must come from the environment, not {value!r}"


def test_rasa_the_gateway_and_the_consumers_share_one_rabbitmq_stream():
    """Rasa's Pika broker, the gateway's events and the consumers use the same broker, with
    the user the rabbitmq service creates (docs/insights.md)."""
    urls = {environment(s)["HUANXIN_EVENTS_AMQP_URL"] for s in ("rasa-1", "rasa-2", "gateway", "events")}
    assert len(urls) == 1
    url = urlparse(urls.pop())
    assert (url.scheme, url.hostname, url.port) == ("amqp", "rabbitmq", 5672)
    assert url.username == environment("rabbitmq")["RABBITMQ_DEFAULT_USER"]
    assert url.password == environment("rabbitmq")["RABBITMQ_DEFAULT_PASS"]
    assert SERVICES["events"]["deploy"]["replicas"] >= 2  # several consumers of one queue
