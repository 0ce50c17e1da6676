"""A live conversation in the app: its analysis, the reply being written, and its operations on systems."""
