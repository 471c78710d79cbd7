"""Base registries (一人一档 · 一企一档 · 一车一档): entity resolution across departments."""
