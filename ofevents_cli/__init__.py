"""ofevents: the developer CLI for OnlyFans-API event streams and webhooks."""

__version__ = "0.1.0"
