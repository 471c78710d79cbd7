"""一网统管 unified city operations: cases from every source, dispatched, timed, supervised."""
