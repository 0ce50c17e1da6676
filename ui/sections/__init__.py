"""One widget per panel section; each takes plain data and renders it."""
