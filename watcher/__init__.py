"""watcher: tells a trade-policy team in Slack when the US government acts on Section 232,
tariffs or the critical minerals list."""

__version__ = "0.1.0"
HOMEPAGE = "https://github.com/watcher-trade/watcher"
