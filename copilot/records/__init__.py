"""What reps did with the advice: every card shown and its outcome, drafts in progress, overrides and decisions."""
