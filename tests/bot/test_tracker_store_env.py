"""Where the redacting tracker store writes: RASA_TRACKER_DB_URL (PostgreSQL for several Rasa
instances, or a SQLite file), else endpoints.yml, else the SQLite file RASA_TRACKER_DB."""

import os
import uuid

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from addons.tracker_store import (
    DEFAULT_DB,
    MASK,
    RedactingSQLTrackerStore,
    TrackerDatabaseError,
    parse_tracker_db_url,
    tracker_db_settings,
)
from harness import domain_path
from test_redaction import SECRETS, verification_turns

ENDPOINTS_SQLITE = {"dialect": "sqlite"}  # what bot/endpoints.yml configures


def test_postgresql_url_gives_dialect_host_port_database_and_user():
    settings = tracker_db_settings(
        ENDPOINTS_SQLITE, {"RASA_TRACKER_DB_URL": "postgresql://rasa@db.internal:5433/rasa_tracker"}
    )
    assert settings == {
        "dialect": "postgresql",
        "host": "db.internal",
        "port": 5433,
        "db": "rasa_tracker",
        "username": "rasa",
        "password": None,
        "query": None,
    }


def test_password_and_names_are_percent_decoded_and_options_become_the_query():
    settings = parse_tracker_db_url(
        "postgres://hx%40ops:p%2Fss%3Aw@10.0.0.5/tracker%2Dmain?sslmode=require&connect_timeout=5"
    )
    assert settings["dialect"] == "postgresql"
    assert (settings["username"], settings["password"]) == ("hx@ops", "p/ss:w")
    assert settings["db"] == "tracker-main"
    assert settings["port"] is None  # the driver's default, 5432
    assert settings["query"] == {"sslmode": "require", "connect_timeout": "5"}


def test_explicit_psycopg2_driver_is_kept():
    assert parse_tracker_db_url("postgresql+psycopg2://u@h/d")["dialect"] == "postgresql+psycopg2"


def test_sqlite_url_names_the_file():
    assert parse_tracker_db_url("sqlite:////var/lib/rasa/tracker.db")["db"] == "/var/lib/rasa/tracker.db"
    assert parse_tracker_db_url("sqlite:///tracker.db") == {
        "dialect": "sqlite",
        "host": None,
        "port": None,
        "db": "tracker.db",
        "username": None,
        "password": None,
        "query": None,
    }


def test_without_the_url_sqlite_at_rasa_tracker_db_stays_the_default(tmp_path):
    assert tracker_db_settings(ENDPOINTS_SQLITE, {"RASA_TRACKER_DB": str(tmp_path / "t.db")})["db"] == str(
        tmp_path / "t.db"
    )
    default = tracker_db_settings(ENDPOINTS_SQLITE, {})
    assert (default["dialect"], default["db"]) == ("sqlite", str(DEFAULT_DB))


def test_an_empty_url_counts_as_unset():
    assert (
        tracker_db_settings(ENDPOINTS_SQLITE, {"RASA_TRACKER_DB_URL": "  ", "RASA_TRACKER_DB": "x.db"})["db"] == "x.db"
    )


def test_endpoints_settings_apply_when_the_url_is_unset():
    configured = {
        "dialect": "postgresql",
        "host": "postgres",
        "port": 5432,
        "db": "rasa_tracker",
        "username": "huanxin",
        "password": "secret",
    }  # docker-compose.yml's endpoints
    settings = tracker_db_settings(configured, {"RASA_TRACKER_DB": "ignored.db"})
    assert settings == {**configured, "query": None}


def test_the_url_overrides_the_endpoints_dialect():
    settings = tracker_db_settings(
        {"dialect": "sqlite", "db": "local.db"}, {"RASA_TRACKER_DB_URL": "postgresql://u@h:5432/shared"}
    )
    assert (settings["dialect"], settings["db"]) == ("postgresql", "shared")


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("mysql://u@h/d", "unsupported scheme 'mysql'"),
        ("127.0.0.1:5432/rasa", "unsupported scheme"),
        ("postgresql://u@h", "database name"),
        ("postgresql:///d", "host"),
        ("postgresql://u@h:port/d", "port is not a number"),
        ("sqlite://", "file path"),
    ],
)
def test_unusable_urls_are_refused_naming_the_variable(url, fragment):
    with pytest.raises(TrackerDatabaseError) as info:
        parse_tracker_db_url(url)
    assert "RASA_TRACKER_DB_URL" in str(info.value) and fragment in str(info.value)


@pytest.fixture
def postgres_database():
    """A fresh database of this test on the local PostgreSQL (127.0.0.1:5432, trust auth)."""
    psycopg2 = pytest.importorskip("psycopg2")
    user = os.environ.get("PGUSER") or "postgres"
    try:
        admin = psycopg2.connect(host="127.0.0.1", port=5432, user=user, dbname="postgres", connect_timeout=3)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432 ({exc})")
    admin.autocommit = True
    name = f"test_bot_tracker_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://{user}@127.0.0.1:5432/{name}", psycopg2.connect(host="127.0.0.1", user=user, dbname=name)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


async def test_postgresql_store_keeps_the_conversation_and_none_of_the_identity_answers(postgres_database, monkeypatch):
    url, conn = postgres_database
    monkeypatch.setenv("RASA_TRACKER_DB_URL", url)
    domain = Domain.load(str(domain_path()))
    store = RedactingSQLTrackerStore(domain=domain, dialect="sqlite")  # as bot/endpoints.yml configures it
    assert store.engine.dialect.name == "postgresql"
    first, second = verification_turns()
    tracker = DialogueStateTracker.from_events("conv-pg", first, slots=domain.slots)
    await store.save(tracker)
    tracker.update_with_events(second, domain)
    await store.save(tracker)

    with conn.cursor() as cur:
        cur.execute("select data from events where sender_id = 'conv-pg'")
        rows = [row[0] for row in cur.fetchall()]
    conn.close()
    assert len(rows) == len(tracker.events)
    stored = "\n".join(rows)
    for secret in SECRETS:
        assert secret not in stored, secret

    other = RedactingSQLTrackerStore(domain=domain)  # a second instance reads the same conversation
    restored = await other.retrieve("conv-pg")
    assert restored.get_slot("verified") is True
    assert restored.get_slot("identity_phone") == MASK
    assert restored.get_slot("pending_intent") == "ask_overdue_status"
    store.engine.dispose()
    other.engine.dispose()
