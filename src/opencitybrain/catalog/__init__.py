"""Government resource catalogue (政务信息资源目录) and its CKAN-compatible read API."""
