"""The use cases: interviews, grading, batch runs, evaluation, LLM review.

They take and return domain types and raise `viva.errors` exceptions (with a field where the
input is at fault); the HTTP API and the CLI only translate. Nothing here knows about FastAPI,
request schemas or terminals, and collaborators come from `viva.composition`.
"""
