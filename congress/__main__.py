"""``python -m congress`` is the ``congress`` command."""

from congress.cli import main

main()
