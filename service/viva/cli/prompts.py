"""`viva prompt …` (owned by the LLM work; placeholder until it lands)."""
