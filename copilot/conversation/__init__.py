"""The conversation: its events, the state they build, and what the newest message asks about."""
