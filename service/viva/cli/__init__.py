"""Command-line edge: `viva …`."""
