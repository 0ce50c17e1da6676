"""From a conversation and its clauses to advice: facts, signals, escalation, paths, drafts, checks, flags."""
