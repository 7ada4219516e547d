"""How the ONNX and OpenVINO backends cut texts into model batches: every text once, texts of
one padded width together, the width decided by the text alone (padding to a batch's longest
text moved an answer's vectors, so its grade depended on what it was graded with). No model
needed."""

from __future__ import annotations

import random

from viva.adapters.onnx_embedder import LENGTH_BUCKET, length_batches, padded_length

# Token counts of examples/answers.jsonl's answers, from 8 to 136.
LENGTHS = [8, 13, 20, 23, 23, 26, 26, 27, 28, 33, 33, 34, 37, 39, 39, 45, 48, 53, 57, 95, 96]
LENGTHS += [100, 107, 108, 115, 119, 119, 121, 136]


def test_every_text_once_in_batches_of_one_length_and_bounded_size() -> None:
    lengths = LENGTHS * 4
    random.Random(1).shuffle(lengths)
    batches = length_batches(lengths, batch_size=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert max(len(b) for b in batches) <= 3
    assert all(len({lengths[i] for i in b}) == 1 for b in batches)  # nothing to pad
    widths = [lengths[b[0]] for b in batches]
    assert widths == sorted(widths)  # shortest first
    assert len(batches) == sum(-(-(LENGTHS.count(n) * 4) // 3) for n in set(LENGTHS))


def test_equal_lengths_fill_batches_and_one_long_text_goes_alone() -> None:
    batches = length_batches([20] * 10 + [200], batch_size=4)
    assert [len(b) for b in batches] == [4, 4, 2, 1] and batches[-1] == [10]
    assert length_batches([], batch_size=8) == []


def test_a_texts_padded_width_comes_from_its_own_length_only() -> None:
    widths = [padded_length(n, 128) for n in LENGTHS]
    assert all(
        w % LENGTH_BUCKET == 0 and n <= w < n + LENGTH_BUCKET
        for n, w in zip(LENGTHS, widths, strict=True)
    )
    assert padded_length(127, 128) == 128 and padded_length(126, 126) == 126  # never past the cap
    assert padded_length(16, 128) == 16 and padded_length(17, 128) == 24
    # Fewer distinct widths than lengths: fewer model calls and input shapes.
    assert len(set(widths)) < len(set(LENGTHS))
