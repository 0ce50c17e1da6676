"""A live conversation in the app (``live.Session``): its analysis, the reply being written, and its operations
on systems; ``playback`` feeds it from a conversation file."""
