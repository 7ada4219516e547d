"""The grading core: pure functions over text and vectors.

It imports no web framework, LLM client or tensor library and reads no files, so it is fast to
test with a fake embedder and its behaviour depends only on its inputs.
"""
