"""Splitting answers into literal spans, and the small lexical toolkit the guards use."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from viva.domain.models import Span

_SENTENCE_END = re.compile(
    r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<!\bcf\.)"
    r"(?<=[.!?])[\"')\]]*\s+(?=\S)|\n\s*\n|\n|;\s+"
)
_CLAUSE_BREAK = re.compile(
    r",\s+(?=(?:and|but|which|because|so|while|whereas|since|although|whereas|then|as|"
    r"so that|that is|i\.e\.|e\.g\.)\b)|\s+(?=(?:because|whereas|while|which means|so that)\b)"
    r"|\s+[-–—]\s+|:\s+",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

# Function words: their share of a text tells prose from a bare keyword list.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves it's don't doesn't isn't aren't can't won't
    we'd we'll we're they're there's one us may might must shall via per etc e.g i.e use
    used using uses""".split()
)


# Words that carry no content for grading: a short list, so that words like "once", "first",
# "between" or "before" still count when an answer's meaning depends on them (the longer
# STOPWORDS above tells prose from keyword lists; it is not a content filter).
CONTENT_STOPWORDS = frozenset(
    """a an the of to in on at by for with from as is are was were be been being it its this that
    these those and or but not no if then than so such can could will would shall should may might
    must do does did done has have had having i you he she we they them their there here what which
    who whom whose when where why how all any both each few more most other some own same too very
    just also into about over under again further only s t out up down off ie e g etc your our my
    me him her us his hers theirs let lets use used using it's don't doesn't isn't aren't can't
    won't""".split()
)


@dataclass(frozen=True)
class Segmented:
    """An answer cut into sentences, clauses inside sentences, and pairs of adjacent sentences."""

    sentences: list[Span]
    spans: list[Span]  # sentences + clauses + adjacent pairs, deduplicated, in text order


def _trimmed(text: str, start: int, end: int) -> Span | None:
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right <= left:
        return None
    # Drop list markers ("- ", "1. ") that a candidate put before an idea.
    s, e = start + left, start + right
    m = re.match(r"(?:[-*•]|\d+[.)])\s+", text[s:e])
    if m and e - s > m.end():
        s += m.end()
    if not _TOKEN.search(text[s:e].lower()):
        return None
    return Span(text=text[s:e], start=s, end=e)


def split_sentences(text: str) -> list[Span]:
    out: list[Span] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        span = _trimmed(text, pos, m.start())
        if span:
            out.append(span)
        pos = m.end()
    span = _trimmed(text, pos, len(text))
    if span:
        out.append(span)
    return out


def split_clauses(sentence: Span) -> list[Span]:
    out: list[Span] = []
    pos = 0
    text = sentence.text
    for m in _CLAUSE_BREAK.finditer(text):
        piece = _trimmed(text, pos, m.start())
        if piece:
            out.append(piece)
        pos = m.end()
    piece = _trimmed(text, pos, len(text))
    if piece:
        out.append(piece)
    if len(out) < 2:
        return []
    shifted = [
        Span(text=c.text, start=c.start + sentence.start, end=c.end + sentence.start) for c in out
    ]
    return [c for c in shifted if len(tokens(c.text)) >= 3]


def segment(text: str) -> Segmented:
    sentences = split_sentences(text)
    seen: set[tuple[int, int]] = set()
    spans: list[Span] = []

    def add(span: Span) -> None:
        if (span.start, span.end) not in seen:
            seen.add((span.start, span.end))
            spans.append(span)

    for i, s in enumerate(sentences):
        add(s)
        for c in split_clauses(s):
            add(c)
        if i + 1 < len(sentences):
            nxt = sentences[i + 1]
            add(Span(text=text[s.start : nxt.end], start=s.start, end=nxt.end))
    spans.sort(key=lambda sp: (sp.start, sp.end))
    return Segmented(sentences=sentences, spans=spans)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """One Snowball stemmer per thread: PyStemmer objects are not safe to share."""
    st: Stemmer.Stemmer | None = getattr(_local, "stemmer", None)
    if st is None:
        st = _local.stemmer = Stemmer.Stemmer("english")
    return st


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem, after dropping a possessive: 'layers'/'layer', 'trained'/'train'.

    It replaced a hand-written suffix stripper that measured the same (Mohler leave one
    question out, Pearson 0.618 against 0.617).
    """
    w = word.replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return str(_stemmer().stemWord(w))


def is_content(word: str) -> bool:
    """Content words carry what an answer says; a number or a symbol like 'n' in O(n) counts."""
    return word not in CONTENT_STOPWORDS


_CACHED_STEMS_MAX_CHARS = 1000  # rubric texts and sentences; whole answers are not cached


def content_stems(text: str) -> tuple[str, ...]:
    """Stems of the content words, in order (cached for short texts: rubric texts recur on
    every answer, while long texts would make the cache's memory grow with answer length)."""
    if len(text) > _CACHED_STEMS_MAX_CHARS:
        return _content_stems(text)
    return _cached_content_stems(text)


def _content_stems(text: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in tokens(text) if is_content(t))


_cached_content_stems = lru_cache(maxsize=1 << 14)(_content_stems)


def window_spans(text: str, sentences: list[Span], max_chars: int) -> list[tuple[int, int]]:
    """Group consecutive sentences into windows short enough for one model pass each."""
    windows: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    for s in sentences:
        if start is None:
            start, end = s.start, s.end
        elif s.end - start > max_chars:
            windows.append((start, end))
            start, end = s.start, s.end
        else:
            end = s.end
    if start is not None:
        windows.append((start, end))
    # A single sentence longer than the window is cut hard; its tail is still graded.
    out: list[tuple[int, int]] = []
    for ws, we in windows:
        while we - ws > max_chars:
            out.append((ws, ws + max_chars))
            ws += max_chars
        out.append((ws, we))
    return out
