"""Check-in is "set present": one open attendance per delegate and sitting; one answer per
nonce and tablet. The database enforces both, also under concurrent scans."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T11:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One open attendance per delegate and sitting; one scan per tablet nonce"

STATEMENTS = (
    "CREATE UNIQUE INDEX attendance_open ON attendance (sitting, delegate) "
    "WHERE undone_at IS NULL",
    "CREATE UNIQUE INDEX checkin_scan_nonce ON checkin_scan (device, nonce)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="checkin", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def drop_indexes():
        engine = engine_finder()
        for name in ("attendance_open", "checkin_scan_nonce"):
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
