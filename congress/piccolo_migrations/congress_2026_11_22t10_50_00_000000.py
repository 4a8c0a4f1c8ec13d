"""Per-congress unique keys, which Piccolo's columns cannot say (no composite UNIQUE)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T10:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Per-congress unique keys: event sequence, delegation code, card number"

STATEMENTS = (
    "CREATE UNIQUE INDEX event_congress_seq ON event (congress, seq) WHERE congress IS NOT NULL",
    "CREATE UNIQUE INDEX delegation_congress_code ON delegation (congress, code)",
    "CREATE UNIQUE INDEX delegate_congress_card ON delegate (congress, card_number)",
    "CREATE INDEX event_congress_type ON event (congress, type)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="congress", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def drop_indexes():
        engine = engine_finder()
        for name in ("event_congress_seq", "delegation_congress_code",
                     "delegate_congress_card", "event_congress_type"):
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
