"""How the ONNX backend cuts texts into model batches: every text once, short ones together, and
little padding, since on a CPU a padded token costs as much as a real one. No model needed."""

from __future__ import annotations

import random

from viva.adapters.onnx_embedder import PADDING_SHARE, PADDING_SLACK, length_batches

# Token counts of examples/answers.jsonl's answers, from 8 to 136.
LENGTHS = [8, 13, 20, 23, 23, 26, 26, 27, 28, 33, 33, 34, 37, 39, 39, 45, 48, 53, 57, 95, 96]
LENGTHS += [100, 107, 108, 115, 119, 119, 121, 136]


def padded(lengths: list[int], batches: list[list[int]]) -> int:
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_every_text_once_in_batches_of_similar_length_and_bounded_size() -> None:
    lengths = LENGTHS * 4
    random.Random(1).shuffle(lengths)
    batches = length_batches(lengths, batch_size=32)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert max(len(b) for b in batches) <= 32
    for b in batches:
        real = sum(lengths[i] for i in b)
        assert padded(lengths, [b]) <= (1 + PADDING_SHARE) * real + PADDING_SLACK * len(b)
    # One batch of 32 padded to the longest would be 2.3x the real tokens.
    assert padded(lengths, batches) < 1.3 * sum(lengths)


def test_equal_lengths_fill_batches_and_one_long_text_goes_alone() -> None:
    batches = length_batches([20] * 10 + [200], batch_size=4)
    assert [len(b) for b in batches] == [4, 4, 2, 1] and batches[-1] == [10]
    assert length_batches([], batch_size=8) == []
