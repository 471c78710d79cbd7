"""City packs: load a real city (admin boundaries, road network, demand) from a folder."""
