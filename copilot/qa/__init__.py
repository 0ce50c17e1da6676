"""Automated QA over finished conversations: checks a pack declares in its qa.toml (policy.py), the
conversations they read, from event files or the records (transcript.py), the checks (checks.py), daily
anomalies (anomaly.py), one scoring pass (score.py) and seeded records to measure it on (generate.py)."""
