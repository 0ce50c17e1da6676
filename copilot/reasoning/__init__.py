"""From a conversation and its clauses to advice: facts, signals, escalation, intent, paths, drafts, verification, flags."""
