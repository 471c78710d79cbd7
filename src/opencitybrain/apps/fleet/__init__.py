"""Key-vehicle supervision (重点车辆监管): positions in, vectorised rules, alerts out."""
