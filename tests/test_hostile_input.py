"""Hostile and unusual input never ends in a traceback: broken metadata costs nothing, unusual
arrays read as their values say, broken models and registries give one clear line."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import digitpad
from digitpad.cli import main
from digitpad.errors import ImageError, ModelError
from digitpad.imageio import load_image


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    """A white page with "47" drawn on it, 8-bit RGB."""
    img = np.full((120, 200, 3), 255, np.uint8)
    cv2.polylines(img, [np.array([[60, 20], [35, 75], [90, 75]])], False, (0, 0, 0), 6)
    cv2.line(img, (75, 45), (75, 105), (0, 0, 0), 6)
    cv2.polylines(img, [np.array([[110, 22], [160, 22], [128, 105]])], False, (0, 0, 0), 6)
    return img


@pytest.mark.parametrize("exif", [b"II*\x00", bytes(range(8))])
def test_a_broken_exif_block_costs_nothing(tmp_path, page, exif, capsys) -> None:
    broken, good = tmp_path / "broken.png", tmp_path / "good.png"
    Image.fromarray(page).save(broken, exif=exif)
    Image.fromarray(page).save(good)
    assert np.array_equal(load_image(broken), page)
    with Image.open(broken) as im:
        assert np.array_equal(load_image(im), page)
    assert main(["recognise", "--json", str(broken), str(good)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [e["text"] for e in out] == [out[1]["text"]] * 2 and "error" not in out[0]


def test_a_broken_exif_block_in_a_dataset_costs_nothing(tmp_path, page, capsys) -> None:
    crops = tmp_path / "crops" / "3"
    crops.mkdir(parents=True)
    Image.fromarray(page).save(crops / "a.png", exif=b"II*\x00")  # stored as it is: a PNG
    Image.fromarray(page).save(crops / "b.jpg", exif=bytes(range(8)))  # decoded, stored as PNG
    home = str(tmp_path / "home")
    assert main(["--home", home, "import", str(tmp_path / "crops"), "--format", "folders"]) == 0
    assert "imported 2 pages" in capsys.readouterr().out


def test_a_name_too_long_and_a_pipe_are_one_line_errors(tmp_path, page, capsys) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(page).save(good)
    long_name = str(tmp_path / ("x" * 300 + ".png"))
    with pytest.raises(ImageError, match="cannot open"):
        load_image(long_name)
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    done = threading.Event()

    def read_pipe() -> None:  # a read that blocks would never set it
        with pytest.raises(ImageError, match="not a regular file"):
            load_image(fifo)
        done.set()

    threading.Thread(target=read_pipe, daemon=True).start()
    assert done.wait(10)
    assert main(["recognise", "--json", long_name, str(good)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert "\n" not in out[0]["error"] and "text" in out[1]


def test_unusual_pil_images_read_or_fail_clearly(page) -> None:
    im = Image.fromarray(page)
    im.close()
    with pytest.raises(ImageError, match="cannot read"):
        load_image(im)
    # grey premultiplied by alpha ("La"): opaque ink, transparent paper composited on white
    ink = page[:, :, 0] < 128
    la = np.stack([np.zeros_like(ink, np.uint8), np.where(ink, 255, 0).astype(np.uint8)], -1)
    grey = load_image(Image.fromarray(la, "LA").convert("La"))[:, :, 0]
    assert (grey[ink] == 0).all() and (grey[~ink] == 255).all()
    # a greyscale PNG whose paper is its transparent colour reads white paper
    keyed = Image.fromarray(np.where(ink, 0, 7).astype(np.uint8), "L")
    keyed.info["transparency"] = 7
    assert (load_image(keyed)[~ink] == 255).all()


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.asmatrix's own
def test_arrays_read_by_their_values(page) -> None:
    want = load_image(page)
    grey = page[:, :, 0]
    assert np.array_equal(load_image(grey.astype(np.uint16)), want)  # 8-bit data in 16 bits
    assert np.array_equal(load_image(grey.astype(np.float64)), want)  # 0-255 floats
    assert np.array_equal(load_image(grey.astype(np.int32) * 257), want)  # full 16-bit range
    assert np.array_equal(load_image(grey / 255.0), want)  # [0, 1] floats
    assert np.array_equal(load_image((grey > 128).astype(np.int64)), want)  # a 0/1 mask
    assert np.array_equal(load_image(np.asmatrix(grey)), want)  # a subclass of ndarray
    ringing = grey / 255.0 * 1.02  # a cubic resize overshoots 1 a little: still [0, 1]
    assert np.abs(load_image(ringing).astype(int) - want).max() <= 1
    odd = grey / 255.0
    odd[0, 0], odd[0, 1] = np.inf, np.nan
    assert load_image(odd)[0, 0, 0] == 255 and load_image(odd)[0, 1, 0] == 0  # paper, ink
    rgba = np.concatenate([page, np.full((*grey.shape, 1), 255, np.uint8)], -1).astype(np.uint16)
    rgba[:, :, 3] = 65535  # 8-bit colour, 16-bit alpha: each channel levelled apart
    assert np.array_equal(load_image(rgba), want)
    for bad in (grey.astype(str), grey.astype("datetime64[s]"), grey.astype(complex)):
        with pytest.raises(ImageError, match="array of"):
            load_image(bad)
    with pytest.raises(ModelError, match="not a int"):
        digitpad.recognise(page, model=123)  # type: ignore[arg-type]


def _model(
    path: Path,
    batch: int | str = "n",
    dtype: int | None = None,
    nan: bool = False,
    scalar: bool = False,
):
    """A tiny ONNX model of the right shape: crops -> 11 probabilities (softmax, or NaN), or
    with ``scalar`` one number for the whole batch."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    dtype = TensorProto.FLOAT if dtype is None else dtype
    np_type = np.float64 if dtype == TensorProto.DOUBLE else np.float32
    w = numpy_helper.from_array(np.full((784, 11), 0.01, np_type), "W")
    shape = numpy_helper.from_array(np.array([-1, 784], np.int64), "shape")
    nodes = [
        helper.make_node("Reshape", ["crops", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "W"], ["z"]),
        helper.make_node("Softmax", ["z"], ["soft"], axis=1),
    ]
    inits = [w, shape]
    if nan:
        inits.append(numpy_helper.from_array(np.array([np.nan], np_type), "nan"))
        nodes.append(helper.make_node("Mul", ["soft", "nan"], ["probs"]))
    elif scalar:
        nodes.append(helper.make_node("ReduceSum", ["soft"], ["probs"], keepdims=0))
    else:
        nodes.append(helper.make_node("Identity", ["soft"], ["probs"]))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("crops", dtype, [batch, 1, 28, 28])],
        [helper.make_tensor_value_info("probs", dtype, [] if scalar else [batch, 11])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    prop = model.metadata_props.add()
    prop.key, prop.value = "classes", ",".join(digitpad.types.CLASSES)
    onnx.save(model, path)
    return path


def test_models_that_cannot_read_a_page_fail_clearly(tmp_path, page, capsys) -> None:
    from onnx import TensorProto  # _model skips the test when onnx is missing

    digitpad.recognise(page, model=_model(tmp_path / "fine.onnx"))
    with pytest.raises(ModelError, match="path is empty"):
        digitpad.recognise(page, model="")
    with pytest.raises(ModelError, match="free batch size"):
        digitpad.recognise(page, model=_model(tmp_path / "batch1.onnx", batch=1))
    with pytest.raises(ModelError, match="float32"):
        digitpad.recognise(page, model=_model(tmp_path / "double.onnx", dtype=TensorProto.DOUBLE))
    with pytest.raises(ModelError, match="free batch size"):  # one number, no rows at all
        digitpad.recognise(page, model=_model(tmp_path / "scalar.onnx", scalar=True))
    nan = _model(tmp_path / "nan.onnx", nan=True)
    with pytest.raises(ModelError, match="no probabilities"):
        digitpad.recognise(page, model=nan)
    good = tmp_path / "good.png"
    Image.fromarray(page).save(good)
    assert main(["recognise", "--json", "--model", str(nan), str(good)]) == 1
    out = json.loads(capsys.readouterr().out)  # valid JSON: no NaN reached it
    assert "no probabilities" in out[0]["error"]


@pytest.mark.parametrize(
    "doc",
    [
        {"versions": [], "active": None},
        {"versions": [], "active": "abc"},
        {"versions": [], "history": ["x"]},
        {"versions": [], "history": 3},
        {"versions": [{"version": 1e400}]},
        {"versions": [], "format": 1e400},
        {"versions": [7]},
    ],
)
def test_a_damaged_registry_falls_back_with_one_line(tmp_path, page, doc, capsys) -> None:
    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    # json.dumps writes 1e400 as Infinity, which json.loads reads back as a float
    (models / "registry.json").write_text(json.dumps(doc))
    good = tmp_path / "good.png"
    Image.fromarray(page).save(good)
    assert main(["--home", str(tmp_path / "home"), "recognise", str(good)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(str(good)) and err.count("\n") == 1
    assert err.startswith("digitpad: warning: model registry") and "unreadable" in err


@pytest.mark.parametrize(
    "record", [{"metrics": [1]}, {"created": 5}, {"data_counts": "x"}, {"parent": "v1"}]
)
def test_a_version_record_of_the_wrong_shape_falls_back(tmp_path, record, capsys) -> None:
    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    (models / "registry.json").write_text(json.dumps({"versions": [{"version": 2, **record}]}))
    assert main(["--home", str(tmp_path / "home"), "models"]) == 0
    out, err = capsys.readouterr()
    assert "v1" in out and "unreadable" in err and err.count("\n") == 1  # shown once


def test_an_active_model_the_registry_does_not_list_falls_back(tmp_path, page, capsys) -> None:
    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    doc = {"format": 1, "active": 7, "history": [1], "versions": []}
    (models / "registry.json").write_text(json.dumps(doc))
    good = tmp_path / "good.png"
    Image.fromarray(page).save(good)
    assert main(["--home", str(tmp_path / "home"), "recognise", str(good)]) == 0
    err = capsys.readouterr().err
    assert err == "digitpad: warning: model v7 cannot be used (it is not in the registry); " + (
        "using v1 instead\n"
    )


def test_command_line_numbers_and_paths_out_of_range(tmp_path, capsys) -> None:
    home = str(tmp_path / "home")
    assert main(["--home", home, "stats", "--last", "9" * 30]) == 0  # the whole store
    assert main(["--home", "", "stats"]) == 2
    assert capsys.readouterr().err.endswith("error: the data home is an empty path\n")
    assert main(["--home", home, "export", ""]) == 2
    assert capsys.readouterr().err.endswith("error: the export folder is an empty path\n")
    assert main(["--home", home, "models", "use", "9" * 5000]) == 1
    err = capsys.readouterr().err
    assert "is not a model version" in err and len(err) < 200


def test_plain_output_keeps_one_line_per_image_whatever_the_names(tmp_path, page, capsys) -> None:
    names = ["a\nb.png", os.fsdecode(b"c\xffd.png"), "tab\there.png", "plain é.png"]
    names += ["Shot 10.02\u202fAM.png", "line\u2028sep.png"]  # a macOS space; a line break
    for name in names:
        Image.fromarray(page).save(tmp_path / name)
    assert main(["recognise", *(str(tmp_path / n) for n in names)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(names)
    shown = [line.rsplit("/", 1)[1].split(": ")[0] for line in lines]
    assert shown == [
        *("a\\nb.png", "c\\xffd.png", "tab\\there.png", "plain é.png"),
        *("Shot 10.02\u202fAM.png", "line\\u2028sep.png"),
    ]
    assert len({line.split(": ")[1] for line in lines}) == 1  # the same page, read the same


def test_lazy_pil_images_that_cannot_be_read_are_one_line_errors(tmp_path, page) -> None:
    import struct
    import warnings
    import zlib

    good, cut = tmp_path / "good.png", tmp_path / "cut.png"
    Image.fromarray(page).save(good)
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with Image.open(good) as closed:
        pass  # the file is closed before the pixels were read
    with pytest.raises(ImageError, match="closed"):
        digitpad.recognise(closed)
    with pytest.raises(ImageError, match="truncated"):
        digitpad.recognise(Image.open(cut))
    # over the pixel limit: refused by its size, before its pixels are decoded
    big = tmp_path / "big.png"
    ihdr = struct.pack(">IIBBBBB", 16000, 16000, 8, 2, 0, 0, 0)
    chunks = [(b"IHDR", ihdr), (b"IDAT", zlib.compress(b"")), (b"IEND", b"")]
    big.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + b"".join(
            struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
            for k, d in chunks
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL's own bomb warning at open
        lazy = Image.open(big)
    with pytest.raises(ImageError, match="refused, 16000x16000"):
        digitpad.recognise(lazy)


def test_a_path_like_that_gives_bytes_and_a_uint8_mask_read(tmp_path, page) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(page).save(good)

    class BytesPath:
        def __fspath__(self) -> bytes:
            return os.fsencode(good)

    want = digitpad.recognise(good).text
    assert want and digitpad.recognise(BytesPath()).text == want
    mask = page[:, :, 0] > 128  # paper True, ink False
    assert digitpad.recognise(mask.astype(np.uint8)).text == want  # as (page > t).astype(uint8)
    with pytest.raises(ModelError, match="not a path"):
        from digitpad.recognise_service import load_classifier

        load_classifier(5)  # type: ignore[arg-type]


def test_a_mask_of_0_and_1_is_the_same_page_to_the_recogniser_and_the_store(page) -> None:
    from digitpad.store.rows import as_rgb

    mask = (page > 128).astype(np.uint8)  # 3 channels of 0 and 1
    assert np.array_equal(as_rgb(mask), load_image(mask))
    assert as_rgb(mask).max() == 255
    assert np.array_equal(as_rgb(page), page)
