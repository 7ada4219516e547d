"""Domain models shared by the core, the adapters and the edges."""
