"""The optional language model: an OpenAI-compatible client and the redaction of what it is sent."""
