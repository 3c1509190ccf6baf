"""watcher: tells a trade-policy team in Slack when the US government acts on Section 232,
tariffs or the critical minerals list."""

__version__ = "0.2.0"
HOMEPAGE = "https://github.com/watcher-trade/watcher"
USER_AGENT = f"watcher/{__version__} (+{HOMEPAGE})"  # every request watcher makes says who it is
