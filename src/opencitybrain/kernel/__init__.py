"""The kernel: types and mechanisms every capability shares; it imports nothing of ours."""
