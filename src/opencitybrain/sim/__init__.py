"""The demo city's synthetic actors and live feeds (generated; never real persons)."""
