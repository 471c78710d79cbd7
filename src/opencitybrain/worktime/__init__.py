"""Working time: China's holiday calendar, working days and hours, legal time limits."""
