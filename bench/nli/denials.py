"""Statements turned into their opposite, to teach a pair classifier what contradiction is.

The forms are those a wrong answer takes in a rubric's own vocabulary: a negation added or
removed, an antonym, a wrong quantifier, and two roles swapped. Pure string rules: the
output only needs to be a plausible denial often enough to train on, not always grammatical.
"""

from __future__ import annotations

import re

_AUX = (
    "is are was were can could should must will would has have does do did may might "
    "needs need keeps"
).split()
_NEGATED = [
    (r"\bcannot\b", "can"),
    (r"\bcan't\b", "can"),
    (r"\bwon't\b", "will"),
    (r"\bdoesn't\b", "does"),
    (r"\bdon't\b", "do"),
    (r"\bisn't\b", "is"),
    (r"\baren't\b", "are"),
    (r"\bno longer\b", "still"),
    (r"\bnever\b", "always"),
    (r"\bnone of\b", "all of"),
    (r"\bnothing\b", "something"),
    (r"\bno\s+", ""),
    (r"\bnot\s+", ""),
]
# Each pair is swapped both ways; a word matches whole, case-insensitively.
ANTONYMS = [
    ("active", "inactive"),
    ("enabled", "disabled"),
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("increased", "decreased"),
    ("raise", "lower"),
    ("raises", "lowers"),
    ("more", "less"),
    ("more", "fewer"),
    ("higher", "lower"),
    ("high", "low"),
    ("larger", "smaller"),
    ("large", "small"),
    ("bigger", "smaller"),
    ("big", "small"),
    ("high-level", "low-level"),
    ("faster", "slower"),
    ("fast", "slow"),
    ("training", "inference"),
    ("train", "test"),
    ("before", "after"),
    ("with", "without"),
    ("trainable", "frozen"),
    ("deterministic", "random"),
    ("better", "worse"),
    ("same", "different"),
    ("reduce", "increase"),
    ("reduces", "increases"),
    ("reduced", "increased"),
    ("prevents", "causes"),
    ("prevent", "cause"),
    ("underfit", "overfit"),
    ("underfitting", "overfitting"),
    ("first", "last"),
    ("simple", "complex"),
    ("easier", "harder"),
    ("always", "never"),
    ("all", "no"),
    ("every", "no"),
    ("only", "also"),
    ("both", "neither"),
    ("keeps", "removes"),
    ("keep", "remove"),
    ("adds", "removes"),
    ("add", "remove"),
    ("stops", "continues"),
    ("start", "end"),
    ("input", "output"),
    ("inputs", "outputs"),
    ("maximum", "minimum"),
    ("max", "min"),
    ("correct", "wrong"),
    ("true", "false"),
    ("positive", "negative"),
    ("linear", "nonlinear"),
    ("temporarily", "permanently"),
    ("automatically", "manually"),
    ("improves", "hurts"),
    ("helps", "hurts"),
    ("shrinks", "grows"),
    ("saves", "discards"),
    ("stable", "unstable"),
    ("noisy", "smooth"),
    ("noisier", "smoother"),
    ("same", "opposite"),
    ("inside", "outside"),
    ("shared", "separate"),
    ("single", "multiple"),
    ("one", "many"),
    ("lose", "keep"),
    ("loses", "keeps"),
    ("slows", "speeds"),
    ("worst", "best"),
    ("validation", "training"),
    ("allowed", "forbidden"),
    ("can", "cannot"),
]
_PLAIN = set(
    "the a an it its this that these those in at on when if for with you we i each every "
    "both after before during while by to of as so but and or then use using".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z\-']*")


def _match_case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def negate(text: str) -> str | None:
    """Remove the first negation, or add one after the first auxiliary verb."""
    for pattern, repl in _NEGATED:
        if re.search(pattern, text, flags=re.IGNORECASE):
            m = re.search(pattern, text, flags=re.IGNORECASE)
            assert m is not None
            return text[: m.start()] + _match_case(repl, m.group()) + text[m.end() :]
    for m in _WORD.finditer(text):
        if m.group().lower() in _AUX:
            if m.group().lower() == "keeps":
                return f"{text[: m.start()]}no longer {text[m.start() :]}"
            return f"{text[: m.end()]} not{text[m.end() :]}"
    return None


def antonym_swaps(text: str) -> list[str]:
    """One variant per antonym found: that one word replaced by its opposite."""
    out: list[str] = []
    table: dict[str, list[str]] = {}
    for a, b in ANTONYMS:
        table.setdefault(a, []).append(b)
        table.setdefault(b, []).append(a)
    for m in _WORD.finditer(text):
        for opposite in table.get(m.group().lower(), [])[:1]:
            out.append(f"{text[: m.start()]}{_match_case(opposite, m.group())}{text[m.end() :]}")
    return out


def role_swap(text: str) -> str | None:
    """Two antonyms or two named things in one sentence, exchanged ("X is high-level, Y is
    low-level" becomes the reverse)."""
    words = list(_WORD.finditer(text))
    table = {a: b for a, b in ANTONYMS} | {b: a for a, b in ANTONYMS}
    for i, m in enumerate(words):
        for n in words[i + 1 :]:
            if table.get(m.group().lower()) == n.group().lower():
                return _swap(text, m, n)
    named = [
        m
        for m in words
        if m.group()[:1].isupper()
        and m.group().lower() not in table
        and m.group().lower() not in _PLAIN
    ]
    for i, m in enumerate(named):
        for n in named[i + 1 :]:
            if n.group() != m.group():
                return _swap(text, m, n)
    return None


def _swap(text: str, m: re.Match[str], n: re.Match[str]) -> str:
    a, b = m.group(), n.group()
    return text[: m.start()] + b + text[m.end() : n.start()] + a + text[n.end() :]


def denials(text: str) -> list[str]:
    """Every opposite this module can make of `text`, without duplicates or the text itself."""
    found = [negate(text), role_swap(text), *antonym_swaps(text)]
    return list(dict.fromkeys(d for d in found if d and d != text))
