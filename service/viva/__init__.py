"""Viva: explainable rubric grading for mock interviews.

Importing the package is cheap on purpose: nothing here loads a model or opens a database.
"""

__version__ = "0.1.0"
