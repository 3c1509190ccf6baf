"""The state database: migrations, atomic checks, the outbox, and refusing damaged state."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from tests.conftest import fr_config
from watcher.db import DB_NAME, MIGRATIONS
from watcher.decide import Decision, ItemWrite
from watcher.errors import StateError
from watcher.models import Alert, AlertEvent, Item, Snapshot
from watcher.schema import migrations
from watcher.store import Store

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
ITEM = Item(
    key="2026-01045",
    title="Adjusting Imports of Processed Critical Minerals",
    record={"document_number": "2026-01045"},
    fingerprint="f1",
)
ALERT = Alert(
    source="fr",
    source_kind="federal_register",
    event=AlertEvent.NEW,
    channel="#trade",
    title=ITEM.title,
    item_key=ITEM.key,
    thread_key=f"fr:{ITEM.key}",
)


def decision(*alerts: Alert) -> Decision:
    return Decision(writes=(ItemWrite(ITEM, True, True),), removed=(), alerts=alerts)


def test_migrations_run_once_and_are_safe_to_rerun(tmp_path):
    Store.open(tmp_path).close()
    store = Store.open(tmp_path)
    from sqlite_utils import Database

    applied = [m.name for m in migrations.applied(Database(store.db.conn))]
    assert applied == list(MIGRATIONS) == [m.name for m in migrations._migrations]
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    store.close()


def test_a_new_database_gets_exactly_the_schema_the_migrations_build(tmp_path):
    import sqlite3
    import subprocess
    import sys

    from sqlite_utils import Database

    from watcher import freshschema
    from watcher.schema import fresh_schema

    assert fresh_schema() == freshschema.STATEMENTS, (
        "watcher/freshschema.py is behind the migrations; regenerate it (see its docstring)"
    )
    migrated = sqlite3.connect(":memory:")
    migrations.apply(Database(migrated, execute_plugins=False))
    Store.open(tmp_path).close()  # a new database: built from freshschema
    fresh = sqlite3.connect(tmp_path / DB_NAME)
    shape = "select type, name, tbl_name, sql from sqlite_master order by type, name"
    assert fresh.execute(shape).fetchall() == migrated.execute(shape).fetchall()
    names = "select migration_set, name from _sqlite_migrations order by id"
    assert fresh.execute(names).fetchall() == migrated.execute(names).fetchall()
    assert [m.name for m in migrations.applied(Database(fresh))] == list(MIGRATIONS)
    # and building it needs no sqlite-utils
    code = (
        "import sys; from pathlib import Path; from watcher.store import Store; "
        f"Store.open(Path({str(tmp_path / 'other')!r})).close(); "
        "print('sqlite_utils' in sys.modules)"
    )
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert said.stdout.strip() == "False", said.stderr


def test_a_check_and_its_alerts_are_written_together(tmp_path):
    store = Store.open(tmp_path)
    ids = store.record_check(
        source="fr",
        kind="federal_register",
        snapshot=Snapshot(
            items=(ITEM,), complete=False, cursor={"newest_publication_date": "2026-01-20"}
        ),
        decision=decision(ALERT),
        now=NOW,
        run_id=None,
    )
    assert len(ids) == 1
    assert store.load_items("fr")["2026-01045"].relevant
    assert [e.alert for e in store.outbox.pending()] == [ALERT]
    assert store.memory("fr").cursor == {"newest_publication_date": "2026-01-20"}
    assert store.memory("fr").baseline_done


def test_a_failure_inside_the_transaction_leaves_nothing_behind(tmp_path):
    store = Store.open(tmp_path)
    broken = Alert(
        source="fr", source_kind="federal_register", event=AlertEvent.NEW, channel=None, title="x"
    )  # type: ignore[arg-type]  # channel is NOT NULL
    with pytest.raises(StateError):
        store.record_check(
            source="fr",
            kind="federal_register",
            snapshot=Snapshot(items=(ITEM,), complete=False),
            decision=decision(ALERT, broken),
            now=NOW,
            run_id=None,
        )
    assert store.load_items("fr") == {}
    assert store.outbox.pending() == []
    assert store.all_sources().get("fr") is None


def test_sent_alerts_keep_their_slack_ts_for_threads(tmp_path):
    store = Store.open(tmp_path)
    (alert_id,) = store.record_check(
        source="fr",
        kind="federal_register",
        snapshot=Snapshot(items=(ITEM,), complete=False),
        decision=decision(ALERT),
        now=NOW,
        run_id=None,
    )
    store.outbox.mark_sent(alert_id, now=NOW, slack_channel="C1", ts="1.000100", thread_ts=None)
    assert store.outbox.pending() == []
    assert store.outbox.thread_root(f"fr:{ITEM.key}", "#trade") == ("C1", "1.000100")
    assert store.outbox.thread_root(f"fr:{ITEM.key}", "#elsewhere") is None


def test_failures_count_up_and_success_resets(tmp_path):
    store = Store.open(tmp_path)
    assert store.record_failure(source="fr", kind="federal_register", error="boom", now=NOW) == 1
    assert store.record_failure(source="fr", kind="federal_register", error="boom", now=NOW) == 2
    store.record_check(
        source="fr",
        kind="federal_register",
        snapshot=Snapshot(items=(), complete=False),
        decision=Decision((), (), ()),
        now=NOW,
        run_id=None,
    )
    row = store.all_sources().get("fr")
    assert row is not None and row["consecutive_failures"] == 0 and row["last_error"] is None


def test_unchanged_sources_are_recorded_in_one_go_keeping_what_they_did_not_bring(tmp_path):
    from datetime import timedelta

    store = Store.open(tmp_path)
    first = Snapshot(items=(), complete=False, validators={"u": {"etag": '"a"'}})
    store.record_check(
        source="fr", kind="federal_register", snapshot=first, decision=Decision((), (), ()),
        now=NOW, run_id=None,
    )  # fmt: skip
    later = NOW + timedelta(hours=1)
    quiet = Snapshot(items=(), complete=False, unchanged=True)  # a 304 that named no validators
    renewed = Snapshot(items=(), complete=False, unchanged=True, validators={"u": {"etag": '"b"'}})
    store.record_unchanged([("fr", "federal_register", quiet), ("new", "feed", renewed)], later)
    rows = store.all_sources()
    assert rows["fr"]["last_check_at"] == rows["fr"]["last_success_at"] == "2026-01-20T13:00:00Z"
    assert rows["fr"]["last_change_at"] == "2026-01-20T12:00:00Z"  # nothing changed since
    assert store.memory("fr").validators == {"u": {"etag": '"a"'}}  # kept
    assert store.memory("new").validators == {"u": {"etag": '"b"'}}  # a row made for it
    assert store.memory("new").baseline_done and rows["new"]["kind"] == "feed"


def test_a_damaged_database_is_refused_not_silently_replaced(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StateError, match="damaged"):
        Store.open(tmp_path)
    assert (tmp_path / DB_NAME).read_bytes().startswith(b"this is not sqlite")


def test_readonly_opening_creates_nothing(tmp_path):
    store = Store.open_readonly(tmp_path / "absent")
    assert store.outbox.pending() == []
    store.close()
    assert not (tmp_path / "absent").exists()


def test_an_unusable_state_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StateError, match=r"cannot use the state directory .*: Not a directory"):
        Store.open(blocker / "state")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_state_directory_is_a_clear_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(StateError):
        Store.open(locked / "state")


def test_the_cli_reports_a_damaged_database_and_does_not_fetch(workspace, fr):
    workspace.write_config(fr_config(fr.url))
    workspace.state.mkdir()
    (workspace.state / DB_NAME).write_bytes(b"garbage" * 1000)
    result = workspace.cli("run")
    assert result.exit_code == 1
    assert "damaged" in result.stderr and "will not start over" in result.stderr
    assert fr.requests == []
    status = workspace.cli("status")
    assert status.exit_code == 1 and "damaged" in status.stderr


def test_an_alert_is_stored_as_dataclasses_asdict_would_write_it():
    """`Alert.to_json` skips asdict's deep copies; the JSON must not change (the outbox holds
    alerts written by earlier versions)."""
    import json
    from dataclasses import asdict, replace

    from watcher.models import Entry, FieldChange, Link, ListChange

    item = replace(ITEM, record={"n": [1, {"x": [2, "3"]}], "t": None}, links=(Link("a", "b"),))
    alerts = [
        ALERT,
        replace(ALERT, item=item, changes=(FieldChange("title", "a", "b"),)),
        replace(ALERT, event=AlertEvent.LIST_CHANGED, listing=ListChange(added=(Entry("x", "u"),))),
        replace(ALERT, facts={"hts": ["7406"], "deadlines": [{"due": "2026-07-13"}]}),
        replace(ALERT, touches=({"what": "copper", "why": "named"},), touches_mention="@t"),
    ]
    for alert in alerts:
        expected = asdict(alert)
        expected["event"] = alert.event.value
        assert alert.to_json() == json.dumps(expected, sort_keys=True)
        assert Alert.from_json(alert.to_json()) == alert
