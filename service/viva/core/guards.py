"""Checks for answers that should not earn credit however similar their words look.

Each guard is a plain function over text, so the reasons a grade was withheld are testable
and visible: they surface as `flags` on the grade.
"""

from __future__ import annotations

import re

from viva.core.text import STOPWORDS, content_stems, split_sentences, tokens
from viva.domain.models import Span

_DONT_KNOW = re.compile(
    r"^\W*(?:(?:i\s+)?(?:do\s*n[o']?t|dont|really\s+don'?t)\s+know(?:\s+\w+){0,4}|idk|dunno|"
    r"no\s+idea|not\s+sure|no\s+clue|pass|skip|n/?a|none|nothing|\?+|-+|\.+|"
    r"i\s+(?:have\s+)?no\s+(?:idea|clue)|i\s+can'?t\s+remember|i\s+forgot|"
    r"(?:sorry,?\s+)?i\s+(?:am|'m)\s+not\s+sure(?:\s+\w+){0,4})\W*$",
    re.IGNORECASE,
)

# Text that talks to the grader instead of answering. Matched per sentence; such sentences
# earn nothing, and the grade is flagged so a person can look.
_INJECTION = re.compile(
    r"(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,60}"
    r"\b(?:instruction|rubric|criteri|prompt|rule|guideline|grading|scoring|previous|above|system)"
    r"|\b(?:give|award|assign|grant)\s+(?:me|this(?:\s+answer)?|the\s+candidate|it)?\s*"
    r"(?:a\s+)?(?:the\s+)?(?:full|maximum|max|perfect|top|100\s*%?|10\s*/\s*10|highest|all(?:\s+the)?)"
    r"\s*(?:marks?|scores?|points?|credit|grade|rating)"
    r"|\b(?:full|maximum|perfect)\s+(?:marks?|score|points|credit)\b"
    r"|^\W*(?:system|assistant|developer|grader|evaluator|note\s+to\s+(?:the\s+)?(?:grader|evaluator|"
    r"examiner|reviewer)|committee\s+note|admin)\s*(?:note|message|override)?\s*[:>\]]"
    r"|\b(?:rating|score|grade)\s*[:=]\s*(?:10(?:\.0+)?|100|1\.0+|5(?:\.0+)?\s*/\s*5|a\+?)\b"
    r"|\b(?:you\s+are|act\s+as)\s+(?:now\s+)?(?:a|an|the)\s+\w*\s*(?:grader|assistant|ai|model)"
    r"|\bas\s+an?\s+(?:ai|language\s+model|llm)\b"
    r"|\"(?:covered|score|verdict|points)\"\s*:"
    r"|<\s*/?\s*(?:system|instructions?|answer|rubric)\s*>"
    r"|\ball\s+(?:rubric\s+)?points\s+(?:are\s+)?(?:covered|met|satisfied)",
    re.IGNORECASE,
)

_KEYWORD_SEPARATORS = re.compile(r"[,;/|\n]+|\s+-\s+")


def is_blank(answer: str) -> bool:
    return not tokens(answer)


def is_dont_know(answer: str) -> bool:
    return len(tokens(answer)) <= 12 and bool(_DONT_KNOW.match(answer.strip()))


def injection_spans(answer: str) -> list[Span]:
    return [s for s in split_sentences(answer) if _INJECTION.search(s.text)]


def looks_like_keyword_list(answer: str) -> bool:
    """Several short fragments with almost no function words: terms, not explanations."""
    words = tokens(answer)
    if len(words) < 3:
        return False
    items = [i for i in _KEYWORD_SEPARATORS.split(answer) if tokens(i)]
    function_share = sum(w in STOPWORDS for w in words) / len(words)
    avg_item = len(words) / max(len(items), 1)
    if len(items) >= 3 and avg_item <= 3.0 and function_share < 0.2:
        return True
    # One run of bare terms with no separators ("dropout overfitting neurons regularization").
    return len(items) <= 1 and 4 <= len(words) <= 12 and function_share == 0.0 and "." not in answer


def restates(span_text: str, question: str, min_novel: int = 1) -> bool:
    """True when a span adds fewer than `min_novel` content words to what the question said.

    One new word is enough to be kept: short correct answers ("only inside the function")
    often add a single word, and the scoring features already discount the question's words.
    """
    q = set(content_stems(question))
    novel = {w for w in content_stems(span_text) if w not in q}
    return len(novel) < min_novel
