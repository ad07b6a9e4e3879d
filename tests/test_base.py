"""Base layer: boxes, image loading, the shared preprocess, the CLI frame."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from digitpad import cli
from digitpad.errors import DigitpadError, ImageError, UsageError
from digitpad.home import resolve_home
from digitpad.imageio import load_image
from digitpad.preprocess import FIT, SIZE, preprocess_boxes, preprocess_crop, zoomed
from digitpad.types import Box


def test_box_iou_and_clip():
    a, b = Box(0, 0, 10, 10), Box(5, 0, 15, 10)
    assert a.iou(b) == pytest.approx(50 / 150)
    assert a.iou(Box(20, 20, 30, 30)) == 0.0
    assert a.overlap(b) == 50 and b.overlap(a) == 50
    assert a.overlap(Box(10, 0, 20, 10)) == 0  # touching edges share no pixel
    assert a.overlap(Box(20, 20, 30, 30)) == 0  # apart on both axes: not a product of negatives
    assert Box(-5, -5, 50, 50).clip(20, 10) == Box(0, 0, 20, 10)
    assert a.union(b) == Box(0, 0, 15, 10)


def test_error_message_is_one_line():
    assert str(DigitpadError("bad\n  thing")) == "bad thing"


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "CMYK", "I;16", "1", "LA"])
def test_load_image_modes_give_rgb_uint8(tmp_path, mode):
    img = Image.new("RGB", (40, 30), "white").convert(mode)
    path = tmp_path / f"x.{'tiff' if mode in ('CMYK', 'I;16') else 'png'}"
    img.save(path)
    arr = load_image(path)
    assert arr.shape == (30, 40, 3) and arr.dtype == np.uint8
    assert arr.min() >= 250  # white stays white whatever the mode


def test_load_image_full_range_16_bit(tmp_path):
    arr16 = np.full((8, 8), 65535, np.uint16)
    arr16[:4] = 0
    path = tmp_path / "deep.png"
    Image.fromarray(arr16).save(path)
    out = load_image(path)
    assert out[0, 0, 0] == 0 and out[-1, 0, 0] == 255


def test_load_image_composites_transparency_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    assert load_image(rgba).min() == 255


def test_load_image_applies_exif_orientation(tmp_path):
    img = Image.new("RGB", (40, 20), "white")
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "r.jpg"
    img.save(path, exif=exif)
    assert load_image(path).shape == (40, 20, 3)


def test_load_image_errors_are_one_line(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(ImageError, match=r"bad\.png"):
        load_image(bad)


def test_decompression_bomb_is_refused(tmp_path):
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")  # 400 MP, a few kB on disk
    path = tmp_path / "bomb.png"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ImageError, match="refused"):
        load_image(path)


def test_preprocess_fits_and_centres():
    crop = np.zeros((100, 50), np.uint8)
    crop[10:90, 20:30] = 255  # a tall bar
    out = preprocess_crop(crop)
    assert out.shape == (SIZE, SIZE) and out.dtype == np.float32
    rows = np.flatnonzero(out.max(axis=1) > 0.5)
    assert rows[-1] - rows[0] + 1 == FIT
    assert abs((rows[0] + rows[-1]) / 2 - (SIZE - 1) / 2) <= 1
    assert out.max() == pytest.approx(1.0)


def test_zoomed_scales_crops_about_the_centre():
    crop = np.zeros((SIZE, SIZE), np.uint8)
    crop[4:24, 9:19] = 255  # a bar FIT high, centred
    batch = np.stack([preprocess_crop(crop)[None], np.zeros((1, SIZE, SIZE), np.float32)])
    assert np.allclose(zoomed(batch, 1.0), batch)

    def ink_rows(x: np.ndarray) -> np.ndarray:
        return np.flatnonzero(x[0, 0].max(axis=1) > 0.5)

    for factor, height in ((0.9, 18), (1.1, 22)):
        out = zoomed(batch, factor)
        assert out.shape == batch.shape and out.dtype == np.float32
        rows = ink_rows(out)
        assert rows.size == height  # FIT rows of ink drawn factor times as high
        assert abs((rows[0] + rows[-1]) / 2 - (SIZE - 1) / 2) <= 0.5  # still centred
        assert not out[1].any()  # paper stays paper
    assert zoomed(batch[:0], 1.1).shape == (0, 1, SIZE, SIZE)


def test_preprocess_blank_is_zero_and_batch_shape():
    assert not preprocess_crop(np.zeros((10, 10), np.float32)).any()
    ink = np.zeros((50, 50), np.float32)
    ink[5:20, 5:10] = 1.0
    batch = preprocess_boxes(ink, [Box(0, 0, 25, 25), Box(30, 30, 50, 50)])
    assert batch.shape == (2, 1, SIZE, SIZE)
    assert batch[0].any() and not batch[1].any()


def test_home_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path / "env"))
    assert resolve_home().root == (tmp_path / "env").resolve()
    home = resolve_home(tmp_path / "explicit")
    assert home.store_path.parent.is_dir() and home.models_dir.is_dir()


def test_a_blank_home_from_the_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGITPAD_HOME", "  ")
    with pytest.raises(UsageError, match="DIGITPAD_HOME is a blank path"):
        resolve_home()
    assert list(tmp_path.iterdir()) == []


def test_cli_version_and_bad_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    with pytest.raises(SystemExit) as exc:
        cli.main(["no-such-command"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "error" in err
