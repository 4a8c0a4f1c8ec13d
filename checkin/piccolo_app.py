"""checkin as a Piccolo app; its tables come with the issue that builds it."""

import os

from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="checkin",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[],
    migration_dependencies=["congress.piccolo_app"],
    commands=[],
)
