"""The recognition pipeline end to end, its pure parts, the CLI, and that it never needs torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad.choose import SPLIT_PART_KEEP_DIGIT, Candidate, decide, settled_boxes
from digitpad.cli import main
from digitpad.errors import ImageError
from digitpad.home import shipped_model_path
from digitpad.line_rules import drop_letters_in_words, keep_digits_in_numbers
from digitpad.preprocess import zoomed
from digitpad.recognise_service import (
    LOOK_AGAIN_ZOOMS,
    Recogniser,
    read_crops,
    recognise,
    to_digits,
)
from digitpad.segment import Segmentation
from digitpad.training.drawn import draw_page
from digitpad.types import Box


def _score(result, page) -> float:
    truth = page.digits
    hits = sum(
        any(d.box.iou(a.box) >= 0.5 and d.label == a.label for d in result.digits) for a in truth
    )
    return hits / len(truth)


def test_recognise_drawn_page(recogniser: Recogniser) -> None:
    page = draw_page(11, n_digits=20, distractors=3)
    result = recogniser.recognise(page.image)
    assert _score(result, page) >= 0.9
    assert result.width == 1000 and result.height == 700
    assert result.model_version == "v1" and result.elapsed_ms > 0
    d = result.digits[0]
    assert 0.0 <= d.confidence <= 1.0 and len(d.alternatives) == 3
    assert d.alternatives[0].score <= d.confidence
    # digits come in reading order: the text without its separators
    assert "".join(d.label for d in result.digits) == result.text.replace("\n", "").replace(" ", "")


def test_blank_page_has_no_digits(recogniser: Recogniser) -> None:
    result = recogniser.recognise(np.full((400, 600, 3), 250, np.uint8))
    assert result.digits == () and result.text == ""


def test_inputs_path_pil_array_and_exif(recogniser: Recogniser, tmp_path: Path) -> None:
    page = draw_page(12, width=500, height=300, n_digits=6)
    arr = recogniser.recognise(page.image)
    path = tmp_path / "p.png"
    Image.fromarray(page.image).save(path)
    assert recogniser.recognise(path).text == arr.text
    assert recogniser.recognise(Image.fromarray(page.image).convert("L")).text == arr.text
    # stored rotated with an EXIF "rotate 90 CW to view" tag: boxes are in upright pixels
    rotated = Image.fromarray(np.rot90(page.image, 1).copy())
    exif = rotated.getexif()
    exif[0x0112] = 6
    jpg = tmp_path / "r.jpg"
    rotated.save(jpg, exif=exif, quality=95)
    result = recogniser.recognise(jpg)
    assert (result.width, result.height) == (500, 300)
    assert _score(result, page) >= 0.8


def test_module_level_recognise_uses_active_model() -> None:
    page = draw_page(13, width=600, height=200, n_digits=5)
    result = recognise(page.image)
    assert result.model_version == "v1"
    with pytest.raises(ImageError):
        recognise(Path("/no/such/image.png"))


def test_split_decision_prefers_confident_parts() -> None:
    whole, a, b = Box(0, 0, 40, 20), Box(0, 0, 20, 20), Box(20, 0, 40, 20)
    cand = Candidate(whole, ((whole,), (a, b)))
    probs = np.full((3, 11), 0.01, np.float32)
    probs[0, 10] = 0.9  # the whole box: not a digit
    probs[1, 3], probs[2, 8] = 0.9, 0.9  # the halves: a 3 and an 8
    chosen = decide([cand], [whole, a, b], probs)
    assert [bx for bx, _ in chosen] == [a, b]
    probs[0, 10], probs[0, 0] = 0.01, 0.95  # now the whole box is a confident 0
    chosen = decide([cand], [whole, a, b], probs)
    assert [bx for bx, _ in chosen] == [whole]


def test_split_with_a_part_that_is_surely_no_digit_never_wins() -> None:
    # a "P" cut into its stem and its bowl: the bowl alone is a sure 0, the stem surely no 1
    whole, stem, bowl = Box(0, 0, 30, 40), Box(0, 0, 8, 40), Box(8, 0, 30, 25)
    cand = Candidate(whole, ((whole,), (stem, bowl)))
    probs = np.full((3, 11), 0.001, np.float32)
    probs[0, 10] = 0.99  # the whole letter: not a digit
    probs[1, 1], probs[1, 10] = 0.04, 0.95  # the stem: surely not a digit
    probs[2, 0] = 0.99
    assert [bx for bx, _ in decide([cand], [whole, stem, bowl], probs)] == [whole]
    # a doubted part is no veto: the part of "21" holding the 1 often reads 0.6-0.85 "not a
    # digit" (the foot of the 2 left on it); the split is read
    probs[1, 1], probs[1, 10] = 0.3, 0.69
    assert [bx for bx, _ in decide([cand], [whole, stem, bowl], probs)] == [stem, bowl]


def test_a_doubted_part_of_a_winning_split_is_a_digit_shown_unsure() -> None:
    # "21" touching: the whole no digit, the 2 sure, the 1 doubted (the 2's foot on it)
    whole, two, one = Box(0, 0, 30, 40), Box(0, 0, 20, 40), Box(20, 0, 30, 40)
    cand = Candidate(whole, ((whole,), (two, one)))
    probs = np.full((3, 11), 0.001, np.float32)
    probs[0, 10], probs[1, 2] = 0.95, 0.97
    probs[2, 1], probs[2, 10] = 0.47, 0.5
    chosen = decide([cand], [whole, two, one], probs)
    digits = to_digits(chosen, *_flat(30, 40))
    assert [(d.label, round(d.confidence, 2)) for d in digits] == [("2", 0.97), ("1", 0.47)]
    assert probs[2, 10] == np.float32(0.5)  # the caller's probabilities are left as they were
    # a part whose best digit is only 0.4 is as often a piece of a letter cut apart: dropped
    probs[2, 1], probs[2, 10] = 0.4, 0.58
    digits = to_digits(decide([cand], [whole, two, one], probs), *_flat(30, 40))
    assert [d.label for d in digits] == ["2"]
    # under SPLIT_PART_KEEP_DIGIT for any digit, the part stays "not a digit" and is dropped
    probs[2, 1], probs[2, 10] = SPLIT_PART_KEEP_DIGIT - 0.01, 0.52
    digits = to_digits(decide([cand], [whole, two, one], probs), *_flat(30, 40))
    assert [d.label for d in digits] == ["2"]
    # a box kept whole is no pair: its doubt stands
    alone = Candidate(one, ((one,),))
    probs[2, 1], probs[2, 10] = 0.4, 0.55
    assert to_digits(decide([alone], [whole, two, one], probs), *_flat(30, 40)) == []


def test_a_dash_drawn_into_a_digit_is_cut_off() -> None:
    # "0-": one stroke; cut apart, a sure 0 and a flat mark in its middle band, no digit
    whole, zero, dash = Box(0, 0, 40, 22), Box(0, 0, 20, 22), Box(22, 8, 40, 17)
    cand = Candidate(whole, ((whole,), (zero, dash)))
    probs = np.full((3, 11), 0.001, np.float32)
    probs[0, 10], probs[1, 0], probs[2, 10] = 0.89, 0.92, 0.97
    assert [bx for bx, _ in decide([cand], [whole, zero, dash], probs)] == [zero, dash]
    assert [
        d.label for d in to_digits(decide([cand], [whole, zero, dash], probs), *_flat(40, 22))
    ] == ["0"]
    # a dash only doubted (0.8 "not a digit", under the veto) is still a dash, cut off: scored
    # by its best digit (0.02) the split would lose to a whole box read as a 0 at 0.6
    doubted = probs.copy()
    doubted[0, 10], doubted[0, 0] = 0.3, 0.6
    doubted[2, 10], doubted[2, 1] = 0.8, 0.02
    assert [bx for bx, _ in decide([cand], [whole, zero, dash], doubted)] == [zero, dash]
    # ...and stays no digit, however much of a "1" a flat mark may hold
    doubted[2, 10], doubted[2, 1] = 0.6, 0.35
    chosen = decide([cand], [whole, zero, dash], doubted)
    assert [bx for bx, _ in chosen] == [zero, dash] and chosen[1][1][10] == np.float32(0.6)
    assert [d.label for d in to_digits(chosen, *_flat(40, 22))] == ["0"]
    # the same mark too high, too tall or too narrow is no dash: the letter rule holds
    for other in (Box(22, 0, 40, 9), Box(22, 4, 40, 18), Box(22, 8, 28, 17)):
        cand = Candidate(whole, ((whole,), (zero, other)))
        assert [bx for bx, _ in decide([cand], [whole, zero, other], probs)] == [whole]


def _flat(width: int, height: int) -> tuple:
    """``to_digits``' page arguments for boxes already in page pixels."""
    seg = Segmentation(ink_u8=np.zeros((height, width), np.uint8), scale=1.0, boxes=[])
    return seg, width, height


def _probs(label: int, p: float) -> np.ndarray:
    out = np.full(11, (1.0 - p) / 10, np.float32)
    out[label] = p
    return out


def test_letter_inside_a_word_is_dropped_a_number_kept() -> None:
    # "tax": the "a" reads as a 0 (0.7), its neighbours are letters, 2 px apart
    t, a, x = Box(0, 0, 14, 30), Box(16, 10, 30, 30), Box(32, 10, 46, 30)
    word = [(t, _probs(10, 0.9)), (a, _probs(0, 0.7)), (x, _probs(10, 0.8))]
    assert [b for b, _ in drop_letters_in_words(word)] == [t, x]
    # a confident digit stays even next to a letter ("5kg" written without a space)
    sure = [(a, _probs(5, 0.95)), (x, _probs(10, 0.8))]
    assert drop_letters_in_words(sure) == sure
    # a number with one digit misread as "not a digit" keeps its other digits
    d1, d2, d3 = Box(0, 0, 14, 30), Box(16, 0, 30, 30), Box(32, 0, 46, 30)
    number = [(d1, _probs(9, 0.95)), (d2, _probs(6, 0.8)), (d3, _probs(10, 0.6))]
    assert [b for b, _ in drop_letters_in_words(number)] == [d1, d2, d3]
    # letters lean on each other in a word: "cm" with the "c" read as 0 and the m's first
    # stroke as 1 goes whole; each alone has as many digit neighbours as letter ones
    c, m1, m2 = Box(0, 10, 14, 30), Box(16, 10, 20, 30), Box(21, 10, 34, 30)
    cm = [(c, _probs(0, 0.8)), (m1, _probs(1, 0.6)), (m2, _probs(10, 0.9))]
    assert drop_letters_in_words(cm) == [cm[2]]
    # punctuation is no letter: a comma-sized mark and a word one space away do not count
    comma, far = Box(32, 24, 36, 34), Box(40, 0, 60, 30)
    assert len(drop_letters_in_words([(d2, _probs(3, 0.7)), (comma, _probs(10, 0.9))])) == 2
    assert len(drop_letters_in_words([(d2, _probs(3, 0.7)), (far, _probs(10, 0.9))])) == 2
    # nor is a tall mark beside it (a border or a rule left over at the page edge)
    tall = Box(-40, -100, 10, 200)
    assert len(drop_letters_in_words([(d2, _probs(3, 0.7)), (tall, _probs(10, 0.9))])) == 2
    # nor a dot between unsure digits ("7.43"): it is no letter-sized neighbour of theirs, though
    # they are letter-sized for it
    d7, dot, d4, d3 = Box(0, 0, 9, 14), Box(11, 5, 18, 13), Box(20, 0, 29, 18), Box(30, 0, 43, 20)
    decimal = [(d7, _probs(7, 0.75)), (dot, _probs(10, 0.95)), (d4, _probs(4, 0.85))]
    decimal.append((d3, _probs(3, 0.64)))
    assert drop_letters_in_words(decimal) == decimal


def test_sticks_of_a_word_are_letters_not_ones() -> None:
    # "Hello": H and e surely letters, the two l's read "1" surely, the o an unsure 0
    xs = (0, 22, 40, 48, 56)
    h, e, l1, l2, o = (Box(x, 0 if k in (0, 2, 3) else 10, x + (4 if k in (2, 3) else 16), 30)
                       for k, x in enumerate(xs))  # fmt: skip
    hello = [
        (h, _probs(10, 0.99)),
        (e, _probs(10, 0.85)),
        (l1, _probs(1, 0.98)),
        (l2, _probs(1, 0.98)),
        (o, _probs(0, 0.8)),
    ]
    assert [b for b, _ in drop_letters_in_words(hello)] == [h, e]
    # a sure digit other than a 1 makes it a number beside letters ("No15"): the 1 stays
    n, o2, one, five = (Box(x, 0, x + 14, 30) for x in (0, 16, 32, 48))
    no15 = [(n, _probs(10, 0.95)), (o2, _probs(10, 0.9))]
    no15 += [(one, _probs(1, 0.98)), (five, _probs(5, 0.97))]
    assert drop_letters_in_words(no15) == no15
    # a number before its unit keeps its 1s: only a stick after the word's first letter goes
    lkg = [(Box(4, 0, 8, 30), _probs(1, 0.98)), (Box(10, 0, 24, 30), _probs(10, 0.95))]
    lkg.append((Box(26, 10, 40, 30), _probs(10, 0.95)))
    assert drop_letters_in_words(lkg) == lkg
    # one letter is not a word ("1a"), nor are two doubted parts, however digit-like they are
    # not ("0" and "9" of a faint number around a "1")
    assert drop_letters_in_words(hello[1:4]) == hello[1:4]
    doubted = [(e, _probs(10, 0.7)), (l1, _probs(1, 0.98)), (l2, _probs(10, 0.75))]
    assert drop_letters_in_words(doubted) == doubted


def test_sure_digits_of_a_long_word_are_letters() -> None:
    # "Page": P, a and e letters (P surely), the g read as a sure 9
    p, a, g, e = (Box(x, 0, x + 14, 30) for x in (0, 16, 32, 48))
    page = [(p, _probs(10, 0.95)), (a, _probs(10, 0.7)), (g, _probs(9, 0.97))]
    page.append((e, _probs(10, 0.7)))
    assert [b for b, _ in drop_letters_in_words(page)] == [p, a, e]
    # two letters per sure digit are no word yet: the 9 stays
    assert drop_letters_in_words(page[:3]) == page[:3]
    # a sure digit before the word's first letter is a number before its unit ("5min")
    five, m, i, n = (Box(x, 0, x + 14, 30) for x in (0, 16, 32, 48))
    five_min = [(five, _probs(5, 0.97)), (m, _probs(10, 0.95))]
    five_min += [(i, _probs(10, 0.7)), (n, _probs(10, 0.9))]
    assert drop_letters_in_words(five_min) == five_min
    # without a sure letter, doubted parts are no word ("2026" faint: three digits doubted)
    faint = [(p, _probs(10, 0.7)), *page[1:]]
    assert drop_letters_in_words(faint) == faint


def test_printed_words_beside_a_number_read_as_no_digits() -> None:
    from PIL import Image, ImageDraw, ImageFont

    font_file = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font_file.is_file():
        pytest.skip("DejaVu Sans is not installed")
    font = ImageFont.truetype(str(font_file), 40)
    for text, digits in (("Total: 125", "125"), ("Hello 42", "42"), ("Page 1 of 11", "111")):
        im = Image.new("RGB", (700, 100), "white")
        ImageDraw.Draw(im).text((20, 25), text, fill="black", font=font)
        assert recognise(np.asarray(im)).text.replace(" ", "") == digits, text


def test_misread_digit_inside_a_number_is_kept() -> None:
    d1, d2, d3, d4 = (Box(x, 0, x + 14, 30) for x in (0, 16, 32, 48))

    def two_way(nd: float, label: int, p: float) -> np.ndarray:
        out = np.full(11, (1.0 - nd - p) / 9, np.float32)
        out[10], out[label] = nd, p
        return out

    # "1234": the "3" cut out alone reads "not a digit" 0.6, "3" 0.3
    number = [
        (d1, _probs(1, 0.97)),
        (d2, _probs(2, 0.95)),
        (d3, two_way(0.6, 3, 0.3)),
        (d4, _probs(4, 0.96)),
    ]
    kept = keep_digits_in_numbers(number)
    assert [b for b, _ in kept] == [d1, d2, d3, d4]
    assert kept[2][1][10] == 0.0 and kept[2][1][3] == pytest.approx(0.3)  # still unsure
    assert kept[0] is number[0]  # the sure digits are untouched
    # a letter with hardly any digit in it stays a letter ("5kg" written without a space)
    letter = [(d1, _probs(5, 0.97)), (d2, two_way(0.9, 4, 0.05))]
    assert keep_digits_in_numbers(letter)[1][1][10] == pytest.approx(0.9)
    # no sure digits around: nothing vouches for it
    alone = [(d1, _probs(7, 0.8)), (d2, two_way(0.6, 3, 0.3))]
    assert keep_digits_in_numbers(alone)[1][1][10] == pytest.approx(0.6)
    # one sure digit beside one doubted part: a pair of digits ("70" whose 0 reads 0.28)
    pair = [(d1, _probs(7, 0.97)), (d2, two_way(0.65, 0, 0.28))]
    assert keep_digits_in_numbers(pair)[1][1][10] == 0.0
    # ...but two doubted parts outnumber it
    three = [*pair, (d3, two_way(0.7, 1, 0.2))]
    assert [p[10] for _, p in keep_digits_in_numbers(three)][1:] == pytest.approx([0.65, 0.7])


class _ByInk:
    """A stand-in classifier: a crop with more ink reads more surely as "7"; every call and
    its batch size are recorded."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.calls.append(len(batch))
        sure = np.clip(batch.reshape(len(batch), -1).sum(axis=1) / 100.0, 0.0, 1.0)
        probs = np.zeros((len(batch), 11), np.float32)
        probs[:, 7] = sure
        probs[:, 10] = 1.0 - sure
        return probs


def test_unsure_crops_are_read_again_at_other_zooms() -> None:
    batch = np.zeros((3, 1, 28, 28), np.float32)
    batch[0, 0, 4:24, 4:24] = 1.0  # 400 ink: sure
    batch[1, 0, 9:19, 11:17] = 1.0  # 60 ink: unsure, and zooming changes how much there is
    clf = _ByInk()  # crop 2 is blank: surely "not a digit"
    probs = read_crops(clf, batch)
    # one call for all, one more for the views of the one unsure crop
    assert clf.calls == [3, len(LOOK_AGAIN_ZOOMS)]
    first = _ByInk().predict(batch)
    assert np.array_equal(probs[0], first[0])  # a sure crop keeps its one reading
    views = [_ByInk().predict(zoomed(batch[1:2], z))[0] for z in LOOK_AGAIN_ZOOMS]
    assert views[0][7] < first[1, 7] < views[1][7]  # smaller, less ink; larger, more
    # an unsure one becomes the mean of its three readings
    assert np.allclose(probs[1], (first[1] + sum(views)) / (1 + len(views)))
    assert probs[2, 10] == pytest.approx(1.0)
    sure_only = _ByInk()
    read_crops(sure_only, batch[:1])
    assert sure_only.calls == [1]  # nothing unsure: no second call


def test_settled_boxes_are_those_no_split_can_beat() -> None:
    sure, unsure, odd = Box(0, 0, 40, 20), Box(50, 0, 90, 20), Box(100, 0, 140, 20)
    probs = np.full((3, 11), 0.001, np.float32)
    probs[0, 7] = 0.96  # log(0.96) + margin > 0: even two perfect halves cannot win
    probs[1, 7] = 0.94  # two halves at 1.0 would beat it
    probs[2, 10] = 0.99  # "not a digit": splits must still be tried
    assert settled_boxes([sure, unsure, odd], probs) == {sure}
    cand = Candidate(sure, ((sure,), (Box(0, 0, 20, 20), Box(20, 0, 40, 20))))
    full = np.vstack([probs[:1], np.eye(11, dtype=np.float32)[[3, 8]]])
    assert [b for b, _ in decide([cand], [sure, *cand.readings[1]], full)] == [sure]


def test_two_pass_reads_as_trying_every_split(
    recogniser: Recogniser, monkeypatch: pytest.MonkeyPatch
) -> None:
    import digitpad.recognise_service as service

    page = draw_page(21, width=700, height=160, n_digits=7, touching_rate=0.6)
    settled: list[int] = []
    real = service.settled_boxes

    def spy(boxes: list[Box], probs: np.ndarray) -> frozenset[Box]:
        out = real(boxes, probs)
        settled.append(len(out))
        return out

    monkeypatch.setattr(service, "settled_boxes", spy)
    got = recogniser.recognise(page.image)
    assert settled and settled[0] >= 1  # the first pass spared some box its splits
    # the reference: no box settled by its reading (a union of fragments still is), so every
    # split of every other box is read and may win
    monkeypatch.setattr(service, "settled_boxes", lambda boxes, probs: frozenset())
    ref = recogniser.recognise(page.image)
    assert len(ref.digits) >= 7
    assert [(d.box, d.label) for d in got.digits] == [(d.box, d.label) for d in ref.digits]


def test_cli_json_shape_and_error_entries(tmp_path: Path, capsys) -> None:
    page = draw_page(14, width=600, height=200, n_digits=4)
    good = tmp_path / "good.png"
    Image.fromarray(page.image).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    code = main(["recognise", "--json", str(good), str(broken), str(tmp_path / "missing.jpg")])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and len(out) == 3
    first = out[0]
    assert set(first) == {"image", "width", "height", "model", "text", "digits"}
    assert first["model"] == "v1" and (first["width"], first["height"]) == (600, 200)
    assert first["digits"] and set(first["digits"][0]) == {"box", "label", "confidence"}
    x0, y0, x1, y1 = first["digits"][0]["box"]
    assert 0 <= x0 < x1 <= 600 and 0 <= y0 < y1 <= 200
    assert set(out[1]) == {"image", "error"} and "\n" not in out[1]["error"]
    assert out[2]["image"].endswith("missing.jpg") and "no such file" in out[2]["error"]


def test_cli_plain_and_min_confidence(tmp_path: Path, capsys) -> None:
    page = draw_page(15, width=600, height=200, n_digits=4)
    good = tmp_path / "good.png"
    Image.fromarray(page.image).save(good)
    assert main(["recognise", str(good), "--model", str(shipped_model_path())]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{good}: ") and len(line.splitlines()) == 1
    assert main(["recognise", "--json", "--min-confidence", "1.0", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["digits"] == []
    assert main(["recognise", "--model", str(tmp_path / "none.onnx"), str(good)]) == 1
    assert "model file not found" in capsys.readouterr().err


def test_recognise_never_imports_torch(tmp_path: Path, run_python) -> None:
    page = draw_page(16, width=400, height=150, n_digits=3)
    img = tmp_path / "p.png"
    Image.fromarray(page.image).save(img)
    code = (
        "import sys, digitpad\n"
        f"r = digitpad.recognise({str(img)!r})\n"
        "assert r.digits, 'nothing recognised'\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]\n"
        "print('TORCH' if bad else 'CLEAN')\n"
    )
    assert run_python(code) == "CLEAN"


def test_image_modes_all_read_the_same(recogniser: Recogniser, tmp_path: Path) -> None:
    page = draw_page(17, width=500, height=200, n_digits=5)
    expected = recogniser.recognise(page.image).text
    assert expected
    rgb = Image.fromarray(page.image)
    grey = np.asarray(rgb.convert("L"))
    variants = {
        "grey.png": rgb.convert("L"),
        "palette.png": rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16),
        "cmyk.tif": rgb.convert("CMYK"),
        "sixteen.png": Image.fromarray(grey.astype(np.uint16) * 257),
    }
    rgba = np.dstack([np.zeros_like(grey)] * 3 + [255 - grey])  # black ink, transparent paper
    variants["alpha.png"] = Image.fromarray(rgba)
    for name, img in variants.items():
        path = tmp_path / name
        img.save(path)
        assert recogniser.recognise(path).text == expected, name


def test_white_ink_on_dark_page_reads(recogniser: Recogniser) -> None:
    page = draw_page(18, width=600, height=200, n_digits=5)
    normal = recogniser.recognise(page.image)
    inverted = recogniser.recognise(255 - page.image)
    assert inverted.text == normal.text and _score(inverted, page) >= 0.8
