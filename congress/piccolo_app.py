"""The congress core as a Piccolo app."""

import os

from piccolo.conf.apps import AppConfig

from congress.tables import (
    Account,
    AccountSession,
    AgendaItem,
    Congress,
    Delegate,
    DelegateImport,
    Delegation,
    Event,
    Sitting,
)
from congress.voting.tables import (
    Poll,
    PollBallot,
    PollChainLink,
    PollOption,
    PollPaperEntry,
    PollParticipation,
)

APP_CONFIG = AppConfig(
    app_name="congress",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        Account,
        AccountSession,
        Congress,
        Event,
        Sitting,
        AgendaItem,
        Delegation,
        Delegate,
        DelegateImport,
        Poll,
        PollOption,
        PollParticipation,
        PollBallot,
        PollPaperEntry,
        PollChainLink,
    ],
    migration_dependencies=[],
    commands=[],
)
