"""The congress core: settings, database, accounts, the event log, congresses and delegates."""
