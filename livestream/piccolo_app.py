"""livestream as a Piccolo app: screens, the speakers' list, stream links, the live state."""

import os

from piccolo.conf.apps import AppConfig

from livestream.tables import LiveState, Screen, Speaker, StreamLink

APP_CONFIG = AppConfig(
    app_name="livestream",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Screen, LiveState, Speaker, StreamLink],
    migration_dependencies=["congress.piccolo_app"],
    commands=[],
)
