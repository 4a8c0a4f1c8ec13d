"""The archive as a Piccolo app."""

import os

from piccolo.conf.apps import AppConfig

from documents.tables import Document, DocumentVersion, MinutesDraft

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Document, DocumentVersion, MinutesDraft],
    migration_dependencies=["congress.piccolo_app"],
    commands=[],
)
