"""The full-text index of the archive, which Piccolo's columns cannot say: an FTS5 table on
SQLite, a tsvector column with a GIN index on PostgreSQL (see documents/search.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-22T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Full-text search of document versions: FTS5 on SQLite, tsvector + GIN on PostgreSQL"

SQLITE = (
    # rowid = document_version.id; the text is folded by documents.search before it comes here.
    # The prefix indexes make one- and two-letter prefixes ("c", "ch") as quick as words.
    "CREATE VIRTUAL TABLE document_search USING fts5("
    "title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2')",
    # A version that goes (with its document, by cascade) takes its index row along: SQLite
    # may give its id to the next version.
    "CREATE TRIGGER document_version_search_delete AFTER DELETE ON document_version"
    " BEGIN DELETE FROM document_search WHERE rowid = old.id; END",
)
SQLITE_BACKWARDS = (
    "DROP TRIGGER document_version_search_delete",
    "DROP TABLE document_search",
)
POSTGRES = (
    "ALTER TABLE document_version ADD COLUMN search_vector tsvector",
    "CREATE INDEX document_version_search ON document_version USING GIN (search_vector)",
)
POSTGRES_BACKWARDS = (
    "DROP INDEX document_version_search",
    "ALTER TABLE document_version DROP COLUMN search_vector",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def create_index():
        engine = engine_finder()
        for statement in SQLITE if engine.engine_type == "sqlite" else POSTGRES:
            await engine.run_ddl(statement)
        # Versions uploaded before the index existed; none in a new database.
        from documents.search import reindex_all

        await reindex_all()

    async def drop_index():
        engine = engine_finder()
        for statement in SQLITE_BACKWARDS if engine.engine_type == "sqlite" else POSTGRES_BACKWARDS:
            await engine.run_ddl(statement)

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
