"""The hall's screens: registered by key, driven from the console, fed over a websocket."""
