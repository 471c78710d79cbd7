"""Block data (块数据): sector data summed up by county, street, community, grid and H3 cell."""
