"""Words and numbers on a line: the letters of a word dropped, the misread digits of a number
kept.

A part of the page is read alone, so a letter inside a word reads as a digit and a plain digit
inside a number may read as "not a digit". Parts close together on a line are chained; what
the rest of its chain is decides. Pure functions over the recogniser's chosen parts (boxes with
their class probabilities).
"""

from __future__ import annotations

import numpy as np

from digitpad.groups import connected_groups
from digitpad.types import CLASSES, NOT_DIGIT_INDEX, NOT_DIGIT_LEVEL, Box

# A letter inside a word reads as a digit (o/0, l/1, T/7) when cut out alone. In a chain of
# close letter-sized parts on a line holding more "not a digit" parts than sure digits, the
# digit-like parts are dropped unless the classifier is at least this sure (see
# drop_letters_in_words; the rules for sure digits in words are below): numbers stand apart
# from words, letters of a word do not.
WORD_GAP = 0.2  # at most this many part heights between the part and its neighbour
WORD_KEEP_CONFIDENCE = 0.9
# ...and inside a number, a part called "not a digit" whose best digit has at least this is kept
# as that digit (see keep_digits_in_numbers): the digits around it vouch for it. A chain is a
# number when it holds at least as many sure digits as "not a digit" parts, one at least: a
# sure digit beside one doubted part is a pair of digits far more often than a digit and a
# letter (fresh pages 9.6-10.3 M: 78.19 -> 78.75 %, 9 pages more and none fewer, when a tie
# became a number; the held-out pages 74.5 -> 75.5 %).
NUMBER_KEEP_DIGIT = 0.15
# The sticks of l, I and i read as sure 1s, so "Hello" held as many sure digits as letters and
# kept "11", and printed labels beside a number ("Total: 125") read "1 125". A chain with at
# least WORD_MIN_LETTERS "not a digit" parts, one of them at least WORD_SURE_LETTER, and no sure
# digit but 1s is a word: its 1s go with its unsure parts. The sure letter spares a 1 between
# two doubted digits of a faint number (read "not a digit" at 0.62 and 0.75). Only a sure digit
# with a letter before it on the line goes: a number is written before its unit, so "11am",
# "1st" and "1kg" keep their 1s (a word's first letter, the I of "Item", stays a 1).
WORD_MIN_LETTERS = 2
WORD_SURE_LETTER = 0.8
# A word with more than this many "not a digit" parts per sure digit, one of them a sure letter,
# is a word even with a sure digit in it: a g read 9 in "Page" (but "5min" keeps its 5).
WORD_LETTERS_PER_DIGIT = 2
_ONE = CLASSES.index("1")


def drop_letters_in_words(parts: list[tuple[Box, np.ndarray]]) -> list[tuple[Box, np.ndarray]]:
    """``parts`` without the digit-like ones that sit inside a word (see ``WORD_GAP``).

    Parts are chained into groups by closeness: on the same line (vertical overlap of half the
    shorter height), no further apart than ``WORD_GAP`` heights, and letter-sized next to each
    other (0.6 to 2.5 times the height: a comma, a dot or a dash is punctuation of a number, a
    long rule or a page border is no letter). A group holding more "not a digit" parts than
    sure digits (at least ``WORD_KEEP_CONFIDENCE``) is a word: its unsure digit-like parts go.
    A sure digit keeps its number whole when another digit is misread as "not a digit"; a
    number of nothing but unsure digits beside a letter-like part is taken for a word, the
    price of dropping letters that lean on each other ("cm": a "c" read as 0, the first stroke
    of the "m" as 1). A group with ``WORD_MIN_LETTERS`` "not a digit" parts, one of them
    ``WORD_SURE_LETTER`` sure, and no sure digit but 1s is a word whose 1s after its first
    letter are letters (l, i) and go too; so do the sure digits after the first letter of a
    group with more than ``WORD_LETTERS_PER_DIGIT`` times as many "not a digit" parts, one of
    them a sure letter. Pure; keeps the order of ``parts``.
    """
    if not parts:
        return parts
    probs = np.stack([p for _, p in parts])
    is_letter = probs[:, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL
    if not is_letter.any():  # most pages of digits: nothing to look at
        return parts
    digits = probs[:, :NOT_DIGIT_INDEX]
    unsure = ~is_letter & (digits.max(axis=1) < WORD_KEEP_CONFIDENCE)
    sure = ~is_letter & ~unsure
    stick = sure & (digits.argmax(axis=1) == _ONE)
    sure_letter = probs[:, NOT_DIGIT_INDEX] >= WORD_SURE_LETTER
    if not (unsure | sure_letter).any():
        return parts
    x0 = np.array([b.x0 for b, _ in parts])
    drop: set[int] = set()
    for group in _line_chains(parts):
        if len(group) < 2:  # a lone part has no word around it
            continue
        letter, doubted, digit = is_letter[group], unsure[group], sure[group]
        letters, sure_digits = np.count_nonzero(letter), np.count_nonzero(digit)
        has_sure_letter = bool(sure_letter[group].any())
        # a sure digit is a letter of the word only after its first letter (see WORD_MIN_LETTERS)
        inside = x0[group] > x0[group][letter].min() if letters else np.zeros(len(group), bool)
        if has_sure_letter and letters > WORD_LETTERS_PER_DIGIT * sure_digits:
            goes = doubted | (digit & inside)  # "Page": the g read 9
        elif has_sure_letter and letters >= WORD_MIN_LETTERS and not (digit & ~stick[group]).any():
            goes = doubted | (stick[group] & inside)  # "Hello": the l's read 1
        elif letters > sure_digits:
            goes = doubted
        else:
            continue
        drop.update(group[goes].tolist())
    return [part for k, part in enumerate(parts) if k not in drop]


def keep_digits_in_numbers(parts: list[tuple[Box, np.ndarray]]) -> list[tuple[Box, np.ndarray]]:
    """``parts`` with the "not a digit" parts inside a number turned back into digits.

    The mirror of :func:`drop_letters_in_words`, on the same chains: in a chain holding at
    least as many sure digits as "not a digit" parts, and one sure digit at least (a number),
    a "not a digit" part whose best digit has at least ``NUMBER_KEEP_DIGIT`` is that digit,
    misread (a plain stick of a 1 looks like a fragment when cut out alone). Its probabilities
    are kept except "not a digit", which is zeroed, so its confidence stays as low as the
    classifier said and the app shows it for review. Pure; keeps the order of ``parts``.
    """
    if not parts:
        return parts
    probs = np.stack([p for _, p in parts])
    is_letter = probs[:, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL
    best_digit = probs[:, :NOT_DIGIT_INDEX].max(axis=1)
    maybe = is_letter & (best_digit >= NUMBER_KEEP_DIGIT)
    if not maybe.any():
        return parts
    sure = ~is_letter & (best_digit >= WORD_KEEP_CONFIDENCE)
    out = list(parts)
    for group in _line_chains(parts):
        n_sure = np.count_nonzero(sure[group])
        if n_sure and n_sure >= np.count_nonzero(is_letter[group]):
            for i in group[maybe[group]]:
                p = probs[i].copy()
                p[NOT_DIGIT_INDEX] = 0.0
                out[i] = (parts[i][0], p)
    return out


def _line_chains(parts: list[tuple[Box, np.ndarray]]) -> list[np.ndarray]:
    """The parts chained by closeness on their line (see :func:`_close_on_line`), as index
    arrays: a chain is a word or a number, or a lone part. Two parts chain only when each is a
    letter-sized neighbour of the other: a digit is letter-sized for the dot of "7.43" beside
    it, but the dot is no letter of its number."""
    xy = np.array([(b.x0, b.y0, b.x1, b.y1) for b, _ in parts], np.float32)
    # every pair, 512 rows at a time: the float arrays of all pairs at once would need
    # gigabytes on a page of thousands of digits
    close = np.zeros((len(xy), len(xy)), bool)
    for lo in range(0, len(xy), 512):
        close[lo : lo + 512] = _close_on_line(xy[lo : lo + 512, None], xy[None, :])
    np.fill_diagonal(close, False)
    return connected_groups(close & close.T)


def _close_on_line(b: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Which ``others`` are letter-sized neighbours of ``b`` on its line, close enough to share
    a word with it. Both are arrays of boxes (x0, y0, x1, y1 on the last axis) that broadcast
    against each other: one box against a list, or every box against every other."""
    bh = b[..., 3] - b[..., 1]
    oh = others[..., 3] - others[..., 1]
    overlap = np.minimum(b[..., 3], others[..., 3]) - np.maximum(b[..., 1], others[..., 1])
    gap = np.maximum(others[..., 0] - b[..., 2], b[..., 0] - others[..., 2])
    # letter-sized: no smaller than punctuation, no taller than an ascender next to an "a"
    return (
        (oh >= 0.6 * bh)
        & (oh <= 2.5 * bh)
        & (overlap >= 0.5 * np.minimum(bh, oh))
        & (gap <= WORD_GAP * np.maximum(bh, oh))
    )
