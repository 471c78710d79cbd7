"""一网统管 unified city operations: cases from every source, classified, dispatched, timed, supervised; Open311."""
