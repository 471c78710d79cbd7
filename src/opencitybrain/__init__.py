"""OpenCityBrain: an open-source City Brain (城市大脑)."""

__version__ = "0.1.0"
