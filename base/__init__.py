"""The foundation every layer may import: the one error tree, the SQLite opener and the JSONL reader."""
