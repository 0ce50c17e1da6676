"""What reps did with the advice: drafts in progress, overrides and decisions."""
