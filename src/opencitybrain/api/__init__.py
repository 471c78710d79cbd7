"""The HTTP API: the app factory and the platform's own routes (health, clock, cockpit)."""
