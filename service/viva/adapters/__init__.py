"""Adapters: the embedding model, the LLM client, files and the database."""
