"""One module per revision, oldest first: 0001 the journal as it was, 0002 the typed records with cards."""
