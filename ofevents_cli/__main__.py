"""`python -m ofevents_cli` runs the same entry point as the `ofevents` script."""

from ofevents_cli.cli.app import main

main()
