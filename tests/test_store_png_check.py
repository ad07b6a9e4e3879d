"""Import's check of a dataset's PNGs: every row of the image data is there (inflated, not
decoded), and a file refused is named in one line with the store as it was."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad import cli
from digitpad.errors import ImageError
from digitpad.imageio import load_image
from digitpad.interop import import_dataset
from digitpad.store import CorrectionStore
from digitpad.store.pages import PageFiles, pixel_hash

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# (x0, y0, dx, dy) of Adam7's seven passes
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2))
ADAM7 += ((0, 1, 1, 2),)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(
    rgb: np.ndarray,
    *,
    interlaced: bool = False,
    filters: bytes = b"\x00",
    cut_rows: int = 0,
    cut_stream: int = 0,
    after_data: bytes = b"",
) -> bytes:
    """An RGB PNG built by hand, every chunk whole and its CRC right: ``filters`` (cycled) are
    the rows' filter bytes (only 0 keeps the pixels as given), ``cut_rows`` bytes are left off
    the end of the image data, ``cut_stream`` off the end of its zlib stream, and
    ``after_data`` (whole chunks) goes between the image data and the end chunk."""
    h, w = rgb.shape[:2]
    passes = ADAM7 if interlaced else ((0, 0, 1, 1),)
    rows = [rgb[y0::dy, x0::dx] for x0, y0, dx, dy in passes]
    raw = b"".join(
        bytes([filters[i % len(filters)]]) + row.tobytes()
        for part in rows
        for i, row in enumerate(part)
        if row.size
    )
    stream = zlib.compress(raw[: len(raw) - cut_rows])
    stream = stream[: len(stream) - cut_stream]
    half = len(stream) // 2  # two IDAT chunks: the check must join them
    return (
        SIGNATURE
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, int(interlaced)))
        + _chunk(b"IDAT", stream[:half])
        + _chunk(b"IDAT", stream[half:])
        + after_data
        + _chunk(b"IEND", b"")
    )


def _pixels(seed: int = 3, size: tuple[int, int] = (19, 13)) -> np.ndarray:
    w, h = size
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _state(home) -> tuple[tuple[int, int, int], list[str]]:
    with CorrectionStore.open(home) as store:
        s = store.stats()
        files = sorted(p.name for p in store.pages.root.glob("*"))
    return (s.pages, s.imports, s.boxes), files


def _crops(tmp_path: Path, bad: bytes) -> Path:
    src = tmp_path / "crops"
    (src / "7").mkdir(parents=True)
    Image.fromarray(_pixels(1)).save(src / "7" / "ok.png")
    (src / "7" / "bad.png").write_bytes(bad)
    return src


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        # the zlib stream stops short: the last rows are missing
        ({"cut_stream": 40}, "truncated"),
        ({"cut_stream": 40, "interlaced": True}, "truncated"),
        # the stream is whole but holds fewer rows than the header declares (libpng refuses
        # it, and so does the pinned Pillow: the import relies on its decoding to refuse it)
        ({"cut_rows": 30}, "truncated"),
        ({"cut_rows": 1, "interlaced": True}, "truncated"),
        # a row whose filter byte is none of PNG's five: decoding stops there
        ({"filters": b"\x00\x00\x00\x07"}, "no known filter"),
        ({"filters": b"\x00\x00\x09", "interlaced": True}, "no known filter"),
    ],
)
def test_png_whose_image_data_is_not_all_there_is_refused_in_one_line(
    home, tmp_path, capsys, damage, said
):
    src = _crops(tmp_path, _png(_pixels(), **damage))
    before = _state(home)
    assert cli.main(["import", str(src), "--format", "folders"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("digitpad: error: ") and err.count("\n") == 1, err
    assert err.count("bad.png") == 1 and said in err, err
    assert _state(home) == before


def _pil_png(mode: str) -> bytes:
    rgb = _pixels(5, (23, 17))
    img = Image.fromarray(rgb)
    if mode == "I;16":
        img = Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257)
    elif mode != "RGB":
        img = img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "make",
    [
        *(lambda m=m: _pil_png(m) for m in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16")),
        lambda: _png(_pixels(), interlaced=True),
        lambda: _png(_pixels(size=(1, 1)), interlaced=True),  # passes with no pixels in them
        lambda: _png(_pixels(), filters=b"\x00\x01\x02\x03\x04"),
        lambda: _png(_pixels(), after_data=_chunk(b"tEXt", b"note\x00after the pixels")),
    ],
    ids=["1", "L", "LA", "P", "RGB", "RGBA", "I16", "adam7", "adam7_1px", "filters", "text"],
)
def test_whole_pngs_of_every_kind_are_stored_as_they_are(tmp_path, make):
    data = make()
    path = tmp_path / "page.png"
    path.write_bytes(data)
    pages = PageFiles(tmp_path / "pages")
    stored = pages.put_file(path)
    assert stored.created and pages.read_bytes(stored.page_hash) == data  # byte for byte
    assert (stored.width, stored.height) == Image.open(path).size
    assert np.array_equal(pages.load(stored.page_hash), load_image(path))
    assert stored.pixels == pixel_hash(load_image(path))


def test_png_check_decodes_what_follows_the_image_data_as_decoding_would(tmp_path):
    # A text chunk after the pixels is read only when PIL decodes them: one it cannot read
    # (a zTXt inflating past PIL's limit) fails that decode, so the check decodes such files.
    bomb = b"note\x00\x00" + zlib.compress(b" " * (2 << 20))
    path = tmp_path / "page.png"
    path.write_bytes(_png(_pixels(), after_data=_chunk(b"zTXt", bomb)))
    with pytest.raises(ImageError, match=r"^page\.png: "):
        PageFiles(tmp_path / "pages").put_file(path)


def test_png_declaring_too_many_pixels_is_refused_before_pil_warns(tmp_path):
    path = tmp_path / "huge.png"
    ihdr = struct.pack(">IIBBBBB", 15_000, 15_000, 8, 2, 0, 0, 0)  # PIL only warns here
    idat = zlib.compress(b"")
    path.write_bytes(
        SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageError, match=r"huge\.png: refused, 15000x15000 is more than"):
            PageFiles(tmp_path / "pages").put_file(path)
    assert not caught  # PIL's warning is several lines on stderr


def test_a_dataset_of_whole_pngs_imports(home, tmp_path):
    src = _crops(tmp_path, _png(_pixels(), interlaced=True))
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, src, "folders")
    assert (report.pages_added, report.boxes_added) == (2, 2)


# --- several pages at a time ------------------------------------------------------------------


@pytest.fixture
def four_threads(monkeypatch):
    from digitpad import interop

    monkeypatch.setattr(interop, "IMPORT_THREADS", 4)
    monkeypatch.setattr(interop.os, "cpu_count", lambda: 4)


def _many(tmp_path: Path, n: int, bad: dict[int, bytes]) -> Path:
    src = tmp_path / "crops"
    (src / "7").mkdir(parents=True)
    for i in range(n):
        path = src / "7" / f"p{i:02d}.png"
        if i in bad:
            path.write_bytes(bad[i])
        else:
            Image.fromarray(_pixels(100 + i, (40, 30))).save(path)
    return src


def test_pages_stored_on_several_threads_keep_the_dataset_order(home, tmp_path, four_threads):
    src = _many(tmp_path, 24, {})
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, src, "folders")
        truths = sorted(store.page_truths(), key=lambda t: t.origin)
        images = [store.page_image(t.page_hash) for t in truths]
    assert report.pages_added == 24
    assert [t.origin for t in truths] == [f"7/p{i:02d}.png" for i in range(24)]
    for i, image in enumerate(images):
        assert np.array_equal(image, _pixels(100 + i, (40, 30)))


def test_with_several_bad_pages_the_first_is_named_and_no_page_file_is_left(
    home, tmp_path, capsys, four_threads
):
    # The pages around the bad ones are stored by other threads meanwhile: the import waits for
    # them before it removes what it made, so the pages folder is as it was.
    bad = {5: _png(_pixels(), cut_stream=40), 17: _png(_pixels(), filters=b"\x08")}
    src = _many(tmp_path, 24, bad)
    before = _state(home)
    assert cli.main(["import", str(src), "--format", "folders"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "7/p05.png" in err and "p17" not in err, err
    assert _state(home) == before
