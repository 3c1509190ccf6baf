"""The state database's schema as one set of statements, for a new database: what every
migration in `watcher.schema` leaves in an empty one, built at once with plain sqlite3, so a
first run needs neither sqlite-utils nor eight migrations. Generated; a test holds it equal
to the migrations (tests/test_store.py). After adding a migration, regenerate it:

    python -c "from watcher.schema import fresh_schema; print(*fresh_schema(), sep=chr(10))"
"""

# fmt: off
STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
)""",
    """CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name")""",
    """CREATE TABLE "sources" (
   "name" TEXT PRIMARY KEY,
   "kind" TEXT NOT NULL,
   "baseline_done" INTEGER DEFAULT 0,
   "first_check_at" TEXT,
   "last_check_at" TEXT,
   "last_success_at" TEXT,
   "consecutive_failures" INTEGER DEFAULT 0,
   "last_error" TEXT,
   "cursor" TEXT,
   "validators" TEXT
, "failure_notice" INTEGER NOT NULL DEFAULT 0, "silence_notice" INTEGER NOT NULL DEFAULT 0, "last_change_at" TEXT, "deadlines_indexed" INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE "items" (
   "source" TEXT,
   "key" TEXT,
   "fingerprint" TEXT NOT NULL,
   "relevant" INTEGER,
   "title" TEXT,
   "url" TEXT,
   "published" TEXT,
   "record" TEXT NOT NULL,
   "first_seen_at" TEXT,
   "last_seen_at" TEXT,
   "changed_at" TEXT,
   "removed_at" TEXT, "history" TEXT, "held" INTEGER NOT NULL DEFAULT 0,
   PRIMARY KEY ("source", "key")
)""",
    """CREATE INDEX "idx_items_source_published"
    ON "items" ("source", "published")""",
    """CREATE TABLE "runs" (
   "id" INTEGER PRIMARY KEY,
   "command" TEXT,
   "dry_run" INTEGER,
   "started_at" TEXT,
   "finished_at" TEXT,
   "sources_checked" INTEGER,
   "sources_failed" INTEGER,
   "alerts_queued" INTEGER,
   "alerts_sent" INTEGER,
   "exit_code" INTEGER
)""",
    """CREATE TABLE "alerts" (
   "id" INTEGER PRIMARY KEY,
   "run_id" INTEGER,
   "source" TEXT NOT NULL,
   "item_key" TEXT,
   "thread_key" TEXT,
   "event" TEXT NOT NULL,
   "channel" TEXT NOT NULL,
   "payload" TEXT NOT NULL,
   "status" TEXT NOT NULL DEFAULT 'pending',
   "attempts" INTEGER DEFAULT 0,
   "last_error" TEXT,
   "created_at" TEXT,
   "last_attempt_at" TEXT,
   "sent_at" TEXT,
   "slack_channel" TEXT,
   "slack_ts" TEXT,
   "thread_ts" TEXT
, "digest_id" INTEGER, "story_id" INTEGER)""",
    """CREATE INDEX "idx_alerts_status"
    ON "alerts" ("status")""",
    """CREATE INDEX "idx_alerts_source_thread_key"
    ON "alerts" ("source", "thread_key")""",
    """CREATE INDEX "idx_alerts_thread_key_channel"
    ON "alerts" ("thread_key", "channel")""",
    """CREATE TABLE "digests" (
   "id" INTEGER PRIMARY KEY,
   "channel" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "size" INTEGER,
   "created_at" TEXT,
   "sent_at" TEXT,
   "slack_channel" TEXT,
   "slack_ts" TEXT,
   "last_error" TEXT
)""",
    """CREATE TABLE "reminders" (
   "source" TEXT,
   "item_key" TEXT,
   "field" TEXT,
   "due" TEXT,
   "days_before" INTEGER,
   "alert_id" INTEGER,
   "created_at" TEXT,
   PRIMARY KEY ("source", "item_key", "field", "due", "days_before")
)""",
    """CREATE TABLE "ops_notices" (
   "key" TEXT PRIMARY KEY,
   "sent_at" TEXT
)""",
    """CREATE TABLE "deadlines" (
   "source" TEXT,
   "item_key" TEXT,
   "field" TEXT,
   "due" TEXT NOT NULL, "what" TEXT,
   PRIMARY KEY ("source", "item_key", "field")
)""",
    """CREATE INDEX "idx_deadlines_due"
    ON "deadlines" ("due")""",
    """CREATE TABLE "stories" (
   "id" INTEGER PRIMARY KEY,
   "thread_key" TEXT NOT NULL,
   "title" TEXT NOT NULL,
   "created_at" TEXT
)""",
    """CREATE UNIQUE INDEX "idx_stories_thread_key"
    ON "stories" ("thread_key")""",
    """CREATE TABLE "story_stages" (
   "id" INTEGER PRIMARY KEY,
   "story_id" INTEGER NOT NULL,
   "alert_id" INTEGER,
   "source" TEXT NOT NULL,
   "own_key" TEXT,
   "item_key" TEXT,
   "event" TEXT NOT NULL,
   "title" TEXT NOT NULL,
   "url" TEXT,
   "instrument" TEXT,
   "number" TEXT,
   "dated" TEXT,
   "published" TEXT,
   "at" TEXT NOT NULL,
   "role" TEXT,
   "label" TEXT,
   "channel" TEXT,
   "touches" TEXT
)""",
    """CREATE INDEX "idx_story_stages_story_id"
    ON "story_stages" ("story_id")""",
    """CREATE INDEX "idx_story_stages_own_key"
    ON "story_stages" ("own_key")""",
    """CREATE INDEX "idx_story_stages_source_item_key"
    ON "story_stages" ("source", "item_key")""",
)
# fmt: on
