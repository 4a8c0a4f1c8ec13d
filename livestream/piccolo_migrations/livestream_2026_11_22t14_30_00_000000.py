"""One open entry per delegate on a sitting's speakers' list: a delegate asks to speak (or
is added by the secretariat) once, until that entry is done or withdrawn. The database
enforces it, also when two requests arrive at the same instant."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One open speakers' list entry per delegate and sitting"

STATEMENTS = (
    "CREATE UNIQUE INDEX speaker_open ON speaker (sitting, delegate) "
    "WHERE delegate IS NOT NULL AND status IN ('requested', 'queued', 'speaking')",
    "CREATE INDEX speaker_sitting_status ON speaker (sitting, status, position)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="livestream", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def drop_indexes():
        engine = engine_finder()
        for name in ("speaker_open", "speaker_sitting_status"):
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
