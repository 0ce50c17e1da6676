"""Copilot core: conversation state and the pipeline from event to advice (no Qt here)."""
