"""What the database itself guarantees about polls, also under concurrent requests: one
participation per delegate and poll, one receipt, one retry key and one chain position per
poll, one paper entry per entry number."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique participations, receipts, retry keys, chain positions, paper entries"

INDEXES = {
    "poll_participation_once": "poll_participation (poll, delegate)",
    "poll_ballot_receipt": "poll_ballot (poll, receipt)",
    "poll_chain_position": "poll_chain (poll, position)",
    "poll_paper_entry_once": "poll_paper_entry (poll, entry)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="congress", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for name, target in INDEXES.items():
            await engine.run_ddl(f"CREATE UNIQUE INDEX {name} ON {target}")
        await engine.run_ddl(
            "CREATE UNIQUE INDEX poll_ballot_retry ON poll_ballot (poll, retry_key) "
            "WHERE retry_key <> ''"
        )

    async def drop_indexes():
        engine = engine_finder()
        for name in [*INDEXES, "poll_ballot_retry"]:
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
