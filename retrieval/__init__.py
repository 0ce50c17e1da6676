"""Policy packs, embeddings and the clause store that answer "which clauses apply here"."""
