"""Piccolo's configuration: the engine comes from the settings (CONGRESS_DATABASE_URL)."""

from piccolo.conf.apps import AppRegistry

from congress.database import make_engine
from congress.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "congress.piccolo_app",
        "checkin.piccolo_app",
        "documents.piccolo_app",
        "livestream.piccolo_app",
    ]
)
