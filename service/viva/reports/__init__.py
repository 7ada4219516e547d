"""Readable reports (Markdown, HTML) of graded answers."""
