"""Credentials and check-in as a Piccolo app."""

import os

from piccolo.conf.apps import AppConfig

from checkin.tables import (
    Attendance,
    CardAsset,
    CardPrintJob,
    CheckinDevice,
    CheckinScan,
    DelegateCard,
    DelegateSession,
    QuorumRule,
)

APP_CONFIG = AppConfig(
    app_name="checkin",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        DelegateCard,
        DelegateSession,
        CardAsset,
        CardPrintJob,
        CheckinDevice,
        Attendance,
        CheckinScan,
        QuorumRule,
    ],
    migration_dependencies=["congress.piccolo_app"],
    commands=[],
)
