"""Geography: coordinate systems, regions and grid codes, road graph, routing."""
