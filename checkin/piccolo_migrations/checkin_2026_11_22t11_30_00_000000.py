"""One asset name per congress and kind (Piccolo has no composite UNIQUE)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique card asset names per congress; one active card per delegate"

STATEMENTS = (
    "CREATE UNIQUE INDEX card_asset_name ON card_asset (congress, kind, name)",
    "CREATE UNIQUE INDEX delegate_card_active ON delegate_card (delegate) WHERE status = 'active'",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="checkin", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    async def drop_indexes():
        engine = engine_finder()
        for name in ("card_asset_name", "delegate_card_active"):
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
