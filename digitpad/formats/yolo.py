"""YOLO detection datasets: ``data.yaml`` + ``images/<name>`` + ``labels/<stem>.txt``.

Each label line is ``class cx cy w h`` with the centre and size normalised to [0, 1] by the
image size. Class k is CLASSES[k] (0..9 digits, 10 not_digit) and the yaml's ``names`` lists
CLASSES. The yaml is written by hand and read with a small parser for the subset YOLO tools use
(``path``, ``train``/``val``/``test``, ``nc``, ``names`` as a flow list, block list or mapping),
so there is no PyYAML dependency.
"""

from __future__ import annotations

import codecs
import math
import os
from collections.abc import Iterable
from pathlib import Path

from digitpad.errors import ImportFormatError
from digitpad.formats.base import (
    LabelledImage,
    atomic_write_text,
    check_box_inside,
    check_label,
    check_unique_names,
    image_size,
    is_image_file,
    place_image,
    printable,
)
from digitpad.types import CLASSES, NOT_DIGIT, Annotation, Box

YAML_NAME = "data.yaml"
_YAML_CANDIDATES = ("data.yaml", "dataset.yaml", "data.yml", "dataset.yml")
_BLOCK_TEXT = ("|", ">", "|-", ">-")  # a value's text on the indented lines below its key
_EPS = 1e-4  # normalised values may overshoot [0, 1] by rounding in other tools


def write_yolo(images: Iterable[LabelledImage], out_dir: Path) -> Path:
    """Write ``images`` as a YOLO dataset under ``out_dir``; return the dataset yaml's path.

    Raises:
        ImageError: a source image cannot be read.
        DigitpadError: an image's ``read`` refuses (a store page missing or damaged).
        ValueError: two images would get the same file name (or label file stem).
        OSError: a file cannot be written.
    """
    out_dir = Path(out_dir)
    images_dir, labels_dir = out_dir / "images", out_dir / "labels"
    images_dir.mkdir(parents=True, exist_ok=True)
    labels_dir.mkdir(parents=True, exist_ok=True)
    items = check_unique_names(images)
    stems = [Path(item.file_name).stem for item in items]
    if len(set(stems)) != len(stems):
        raise ValueError("two images share a file stem, so their YOLO label files would collide")
    for item, stem in zip(items, stems, strict=True):
        place_image(item, images_dir)
        lines = [_label_line(a, item.width, item.height) for a in item.annotations]
        atomic_write_text(labels_dir / f"{stem}.txt", "".join(lines))
    names = ", ".join(f"'{n}'" for n in CLASSES)
    yaml = (
        "# digitpad dataset (YOLO detection format). No 'path:' on purpose: Ultralytics then\n"
        "# reads train/val relative to this file's folder ('path: .' would be its own folder\n"
        "# of datasets, or the folder it is run from).\n"
        "train: images\n"
        "val: images\n"
        f"nc: {len(CLASSES)}\n"
        f"names: [{names}]\n"
    )
    path = out_dir / YAML_NAME
    atomic_write_text(path, yaml)
    return path


def _label_line(ann: Annotation, width: int, height: int) -> str:
    k = CLASSES.index(check_label(ann.label, "annotation"))
    b = ann.box
    cx, cy = (b.x0 + b.x1) / 2 / width, (b.y0 + b.y1) / 2 / height
    return f"{k} {cx:.6f} {cy:.6f} {b.width / width:.6f} {b.height / height:.6f}\n"


def read_yolo(path: Path) -> list[LabelledImage]:
    """Read a YOLO dataset: its yaml, or a folder holding a yaml or ``images/`` + ``labels/``.

    An image without a label file has no boxes (YOLO's convention for background images).

    Raises:
        ImportFormatError: a bad yaml, a bad label line (wrong field count, not numbers, class
            out of range or not a digit/not_digit, values outside [0, 1]), a label file whose
            image is missing or that two images share; the message names the file and line.
    """
    path = Path(path)
    yaml_path = _find_yaml(path)
    if yaml_path is None:
        if not path.is_dir():
            raise ImportFormatError(f"{printable(path.name)}: no such file or folder")
        root, splits, names = path, ["images"], list(CLASSES)
    else:
        root, splits, names = _parse_yaml(yaml_path)
    labels = _class_labels(names)
    out: list[LabelledImage] = []
    seen: set[Path] = set()
    by_label: dict[Path, Path] = {}
    for split in splits:
        for image_path in _split_images(root, split, yaml_path or path):
            if image_path.resolve() in seen:
                continue  # train and val often name the same folder
            seen.add(image_path.resolve())
            _check_own_label(image_path, by_label)
            out.append(_read_image(image_path, labels))
    _check_orphan_labels(root, splits, seen)
    return out


def _find_yaml(path: Path) -> Path | None:
    if path.is_file():
        return path
    if path.is_dir():
        for name in _YAML_CANDIDATES:
            if (path / name).is_file():
                return path / name
    return None


def _parse_yaml(yaml_path: Path) -> tuple[Path, list[str], list[str]]:
    """(dataset root, image folders, class names) from the simple yaml YOLO tools write."""
    name = printable(yaml_path.name)
    try:
        text = yaml_path.read_text(encoding="utf-8-sig")  # a BOM from Windows tools
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"{name}: cannot read ({exc})") from None
    values: dict[str, str] = {}
    # (line number, text) of the indented or "- " lines under a key with no value on its
    # line: the names as a block, the image folders as a list, or a block of a key we do not
    # read (Ultralytics' "download: |" script)
    blocks: dict[str, list[tuple[int, str]]] = {}
    current: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        if current is not None and raw[:1] in (" ", "\t", "-"):
            blocks[current].append((lineno, line.strip()))
            continue
        current = None
        if ":" not in line:
            raise ImportFormatError(f"{name}: line {lineno}: expected 'key: value', got {line!r}")
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        values[key] = value
        if value in ("", *_BLOCK_TEXT):
            current = key
            blocks[key] = []
    names = _parse_names(name, values.get("names", ""), blocks.get("names", []))
    path = values.get("path", ".")
    if path in _BLOCK_TEXT:
        path = _block_text(name, "path", blocks["path"])
    root = yaml_path.parent / (_unquote(path) or ".")
    splits = [
        folder
        for k in ("train", "val", "test")
        for folder in _folders(name, k, values.get(k, ""), blocks.get(k, []))
    ]
    return root, splits or ["images"], names


def _folders(name: str, key: str, inline: str, block: list[tuple[int, str]]) -> list[str]:
    """The image folders (or list files) ``key`` names: one, a ``[a, b]`` list, or a block
    of ``- a`` lines.

    Raises:
        ImportFormatError: a list that is not closed, or a block line that is no "- " item.
    """
    if inline.startswith("["):
        if not inline.endswith("]"):
            raise ImportFormatError(f"{name}: {key}: unterminated list {inline!r}")
        return [_unquote(v) for v in inline[1:-1].split(",") if v.strip()]
    if inline in _BLOCK_TEXT:
        return [_block_text(name, key, block)]
    if inline:
        return [_unquote(inline)]
    for lineno, entry in block:
        if not entry.startswith("-"):
            raise ImportFormatError(f"{name}: line {lineno}: expected '- folder', got {entry!r}")
    return [_unquote(entry[1:]) for _, entry in block]


def _block_text(name: str, key: str, block: list[tuple[int, str]]) -> str:
    """The folder a ``key: |`` (or ``>``) block of text names, on its one line.

    Raises:
        ImportFormatError: the block has no line, or more than one (no folder's name).
    """
    if len(block) != 1:
        raise ImportFormatError(
            f"{name}: {key}: expected one folder in its block of text, got {len(block)} lines"
        )
    return _unquote(block[0][1])


def _parse_names(name: str, inline: str, block: list[tuple[int, str]]) -> list[str]:
    if inline.startswith("["):
        if not inline.endswith("]"):
            raise ImportFormatError(f"{name}: names: unterminated list {inline!r}")
        return [_unquote(v) for v in inline[1:-1].split(",") if v.strip()]
    if inline.startswith("{") and inline.endswith("}"):  # {0: '0', 1: '1', ...}
        entries = [(0, e.strip()) for e in inline[1:-1].split(",") if e.strip()]
        return _parse_names_mapping(name, entries)
    if inline:
        raise ImportFormatError(f"{name}: names: expected a list, got {inline!r}")
    if not block:
        return list(CLASSES)  # no names given: assume ours
    if all(entry.startswith("-") for _, entry in block):
        return [_unquote(entry[1:]) for _, entry in block]
    return _parse_names_mapping(name, block)


def _parse_names_mapping(name: str, entries: list[tuple[int, str]]) -> list[str]:
    """``index: name`` entries (with their line numbers, 0 when inline) as a list of names."""
    mapping: dict[int, str] = {}
    for lineno, entry in entries:
        key, sep, value = entry.partition(":")
        if not sep or not key.strip().isdigit():
            where = f"line {lineno}" if lineno else "names"
            raise ImportFormatError(f"{name}: {where}: expected 'index: name', got {entry!r}")
        mapping[int(key)] = _unquote(value)
    if sorted(mapping) != list(range(len(mapping))):
        raise ImportFormatError(f"{name}: names: class indices must be 0..{len(mapping) - 1}")
    return [mapping[i] for i in range(len(mapping))]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _class_labels(names: list[str]) -> dict[int, str | None]:
    """class index -> our label, None for a class that is not a digit or not_digit."""
    return {i: (n if n in CLASSES else None) for i, n in enumerate(names)}


def _split_images(root: Path, split: str, source: Path) -> list[Path]:
    target = root / split
    if target.is_dir():
        if not _own_labels_tree(target):  # labels beside the images: that folder alone
            return sorted(p for p in target.iterdir() if is_image_file(p))
        # every image under it, as Ultralytics finds them (images/train/, images/val/...),
        # but none in a hidden folder
        return sorted(
            p
            for p in target.rglob("*")
            if is_image_file(p) and not any(q.startswith(".") for q in p.relative_to(target).parts)
        )
    if target.is_file() and target.suffix == ".txt":  # a list of image paths
        try:
            raw = target.read_bytes()
        except OSError as exc:
            raise ImportFormatError(
                f"{printable(split)}: cannot read ({exc.strerror or exc})"
            ) from None
        # The lines are file names, and a file name need not be UTF-8: decoded as the OS
        # decodes names, each maps back to the same bytes (a garbage line is then not found).
        lines = os.fsdecode(raw.removeprefix(codecs.BOM_UTF8)).splitlines()
        return [(root / ln.strip()) for ln in lines if ln.strip()]
    raise ImportFormatError(f"{printable(source.name)}: image folder {split!r} not found")


def _shown(path: Path, root: Path) -> str:
    """``path`` as an error names it: from the dataset's root when it is under it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name


def _own_labels_tree(images_dir: Path) -> bool:
    """Whether the labels of ``images_dir`` live in a tree of their own (an ``images`` folder
    on its path, so ``labels`` beside it), which makes its subfolders part of the dataset.
    Without one, labels sit beside the images, and subfolders (``labels/`` among them) are
    not the split's."""
    return _label_path(images_dir / "x.png").parent != images_dir


def _label_path(image_path: Path) -> Path:
    """YOLO's rule: the last ``images`` folder in the path becomes ``labels``, suffix .txt."""
    parts = list(image_path.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def _check_own_label(image_path: Path, by_label: dict[Path, Path]) -> None:
    """ImportFormatError when another image already read (``by_label``: label file -> image)
    has the same label file (``p.png`` and ``p.jpg`` side by side): whose boxes they are
    cannot be told, and two images of other sizes would both get them."""
    label_path = _label_path(image_path)
    other = by_label.setdefault(label_path.resolve(), image_path)
    if other != image_path and label_path.is_file():
        raise ImportFormatError(
            f"{printable(other.name)} and {printable(image_path.name)} share the label file "
            f"labels/{printable(label_path.name)}: rename one of them"
        )


def _read_image(image_path: Path, labels: dict[int, str | None]) -> LabelledImage:
    width, height = image_size(image_path, image_path.name)
    label_path = _label_path(image_path)
    anns: list[Annotation] = []
    if label_path.is_file():
        text = label_path.read_text(encoding="utf-8-sig", errors="replace")
        for lineno, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                where = f"labels/{printable(label_path.name)}: line {lineno}"
                anns.append(_parse_line(line, labels, width, height, where))
    return LabelledImage(path=image_path, width=width, height=height, annotations=tuple(anns))


def _parse_line(
    line: str, labels: dict[int, str | None], width: int, height: int, where: str
) -> Annotation:
    fields = line.split()
    if len(fields) != 5:
        raise ImportFormatError(f"{where}: expected 'class cx cy w h', got {line.strip()!r}")
    try:
        k = int(fields[0])
        cx, cy, w, h = (float(v) for v in fields[1:])
    except ValueError:
        raise ImportFormatError(f"{where}: not numbers: {line.strip()!r}") from None
    if k not in labels:
        raise ImportFormatError(f"{where}: class {k} is out of range 0..{len(labels) - 1}")
    label = labels[k]
    if label is None:
        raise ImportFormatError(f"{where}: class {k} is not a digit 0-9 or {NOT_DIGIT!r}")
    values = (cx, cy, w, h)
    if not all(math.isfinite(v) and -_EPS <= v <= 1 + _EPS for v in values) or w <= 0 or h <= 0:
        raise ImportFormatError(f"{where}: values must be normalised to (0, 1]: {line.strip()!r}")
    if cx - w / 2 < -_EPS or cy - h / 2 < -_EPS or cx + w / 2 > 1 + _EPS or cy + h / 2 > 1 + _EPS:
        raise ImportFormatError(f"{where}: box is outside the image: {line.strip()!r}")
    box = Box(
        round((cx - w / 2) * width),
        round((cy - h / 2) * height),
        round((cx + w / 2) * width),
        round((cy + h / 2) * height),
    ).clip(width, height)
    check_box_inside(box, width, height, where)
    kind = "digit" if label != NOT_DIGIT else "other"
    return Annotation(box, check_label(label, where), kind=kind)


def _check_orphan_labels(root: Path, splits: list[str], images: set[Path]) -> None:
    """A label file whose image is missing is a broken dataset, not something to skip."""
    stems = {(p.parent.resolve(), p.stem) for p in images}
    for split in splits:
        images_dir = root / split
        if not images_dir.is_dir():
            continue
        labels_dir = _label_path(images_dir / "x.png").parent
        if not labels_dir.is_dir():
            continue
        found = (
            labels_dir.rglob("*.txt") if _own_labels_tree(images_dir) else labels_dir.glob("*.txt")
        )
        for label_file in sorted(found):
            sub = label_file.parent.relative_to(labels_dir)
            if any(q.startswith(".") for q in (*sub.parts, label_file.name)):
                continue  # a hidden folder or file: not the dataset's, as for images
            if ((images_dir / sub).resolve(), label_file.stem) not in stems:
                where = printable(_shown(label_file, root))
                raise ImportFormatError(
                    f"{where}: no image file for it in {printable(str(Path(split, sub)))}/"
                )
