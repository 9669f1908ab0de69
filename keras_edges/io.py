"""Image I/O: reading and writing images, finding them in folders, their value ranges.

The one place for: `load_image`/`save_image`; `image_files` (which files in a folder are
images); `pixel_range`/`to_float` (uint8 is 0..255, uint16 0..65535, everything else as
it is); `atomic_path` (every file or folder the package writes appears complete or not
at all).
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "IMAGE_SUFFIXES",
    "atomic_path",
    "encode_image",
    "image_files",
    "is_image_name",
    "load_image",
    "pixel_range",
    "remove_stale_parts",
    "save_image",
    "to_float",
]

LOAD_MODES = ("L", "RGB", "RGBA")
# Suffixes that `save_image` writes, with their Pillow format (None: NumPy's .npy).
_SAVE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".npy": None,
}
# Suffixes that name image files when looking through folders.
IMAGE_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
    ".bmp",
    ".gif",
    ".webp",
    ".ppm",
    ".pgm",
)
_HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
# The value of white for integer pixels that are scaled; other dtypes are used as they are.
_PIXEL_RANGES = {"uint8": 255.0, "uint16": 65535.0}


def pixel_range(dtype) -> float:
    """The value of white: 255 for uint8, 65535 for uint16, 1 for every other dtype.

    Example:
    >>> pixel_range(np.uint8), pixel_range("uint16"), pixel_range(np.float32)
    (255.0, 65535.0, 1.0)
    """
    return _PIXEL_RANGES.get(np.dtype(dtype).name, 1.0)


def to_float(array) -> np.ndarray:
    """Pixels as float32 in the package's value range: `array / pixel_range(array.dtype)`.

    uint8 and uint16 become [0, 1]; bool, other integers and floats keep their values.

    Raises:
        TypeError: If the pixels are not bool, integer or float.

    Example:
    >>> to_float(np.array([0, 51, 255], np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            "Invalid dtype for an image. Expected bool, integer or float pixels. "
            f"Received: dtype={array.dtype}"
        )
    scale = pixel_range(array.dtype)
    array = array.astype(np.float32)
    return array / np.float32(scale) if scale != 1.0 else array


def image_files(folder, *, pattern: str = "*", recursive: bool = True) -> list[Path]:
    """The image files in `folder` that match `pattern`, sorted.

    One rule set for every folder the package reads: a file whose suffix (any case) is
    one of `IMAGE_SUFFIXES`, and no hidden file or folder (a name starting with "."
    below `folder`, such as macOS's `._photo.jpg` or an interrupted write's temporary).

    Args:
        folder: The folder to look through.
        pattern: A glob pattern relative to `folder` (e.g. `"*.jpg"` or `"**/*.tif"`).
        recursive: Look through sub-folders too (for `"*"`); `**` in `pattern` then
            matches any depth, and without it only one level.

    Returns:
        The paths, sorted.

    Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.png", "a.JPG", ".hidden.png", "notes.txt"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [path.name for path in image_files(folder)]
    ['a.JPG', 'b.png']
    """
    folder = Path(folder)
    if recursive and pattern == "*":
        pattern = "**/*"
    elif not recursive:
        pattern = pattern.replace("**", "*")
    return sorted(
        path
        for path in folder.glob(pattern)
        if is_image_name(path.relative_to(folder).as_posix()) and path.is_file()
    )


def is_image_name(relative: str) -> bool:
    """Whether `image_files` takes a file at `relative` (a "/"-separated path below its folder).

    Example:
    >>> is_image_name("a/b.JPG"), is_image_name("a/.b.png"), is_image_name("notes.txt")
    (True, False, False)
    """
    parts = relative.split("/")
    return Path(parts[-1]).suffix.lower() in IMAGE_SUFFIXES and not any(
        part.startswith(".") for part in parts
    )


@contextlib.contextmanager
def atomic_path(path, *, replace_folder: bool = False) -> Iterator[Path]:
    """Write `path` atomically: yield a temporary path to write, then move it into place.

    The temporary path has `path`'s name, inside a hidden folder
    `.<name>.<random>.part` next to `path` (so writers that look at the suffix, such as
    Keras and Matplotlib, see the real one). When the block ends without an error the
    result (a file or a folder) replaces `path` in one rename. A folder result, or a
    file result over a folder with `replace_folder=True`, first moves the existing
    `path` into the temporary folder (deleted with it) and moves it back if the rename
    fails. On any error, or an interrupt, nothing at `path` changes and the temporary
    folder is removed. Files get the permissions a plain `open()` gives (the umask
    applies).

    Args:
        path: The destination; its parent folder must exist.
        replace_folder: Let a file replace an existing folder `path` (the caller has
            checked what the folder holds); without it that is an `IsADirectoryError`.

    Raises:
        FileNotFoundError: If the parent folder does not exist.

    Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_path(target) as temporary:
    ...     _ = temporary.write_text("complete")
    >>> target.read_text(), [p.name for p in target.parent.iterdir()]
    ('complete', ['notes.txt'])
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"Cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist."
        )
    with tempfile.TemporaryDirectory(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    ) as work:
        temporary = Path(work) / path.name
        yield temporary
        swap = temporary.is_dir() or (
            replace_folder and path.is_dir() and not path.is_symlink()
        )
        if swap and (path.exists() or path.is_symlink()):
            # No single rename does this: the old result moves into the temporary
            # folder (removed with it) and comes back if the new one cannot move in.
            previous = Path(work) / f"{path.name}.previous"
            os.replace(path, previous)
            try:
                os.replace(temporary, path)
            except BaseException:
                os.replace(previous, path)
                raise
        else:
            os.replace(temporary, path)


# A temporary `.part` file or folder untouched this long was left by a killed run (a
# live writer fills it in seconds).
_STALE_SECONDS = 3600


def remove_stale_parts(target) -> None:
    """Delete what killed runs left of `target`: the `.part` temporaries of its writers.

    Those of `atomic_path` (folders) and of `keras_edges.beam` (files), untouched for an
    hour: a file that another run (a restarted job, a second shard into the same
    folder) is writing right now is never touched.
    """
    target = Path(target)
    cutoff = time.time() - _STALE_SECONDS
    for part in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
        try:
            if part.stat().st_mtime >= cutoff:
                continue
            if part.is_dir():
                shutil.rmtree(part)
            else:
                part.unlink()
        except FileNotFoundError:  # its writer finished or another run removed it
            pass


def _open(source) -> Image.Image:
    """Open `source` as a fully decoded PIL image, or raise a clear error."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, stream = "<bytes>", io.BytesIO(bytes(source))
    elif hasattr(source, "read"):  # an open binary file, e.g. from Beam's file systems
        name, stream = str(getattr(source, "name", "<stream>")), source
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            what = (
                "a folder"
                if path.is_dir()
                else "not a regular file"
                if path.exists()
                else "no such file"
            )
            raise FileNotFoundError(f"Cannot read image {str(path)!r}: {what}.")
        name, stream = str(path), path
    else:
        raise TypeError(
            "Invalid type for argument `source`. Expected a path (str or pathlib.Path), a "
            f"PIL image, bytes or a binary file. Received: source of type {type(source).__name__}"
        )
    try:
        image = Image.open(stream)
        image.load()  # decode now, so that a truncated file fails here
    except UnidentifiedImageError:
        raise ValueError(
            f"Cannot read image {name!r}: not an image file Pillow can identify."
        ) from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        reason = str(error).strip().rstrip(".") or type(error).__name__
        raise ValueError(f"Cannot read image {name!r}: {reason}.") from None
    return image


def load_image(source, *, mode: str = "L") -> np.ndarray:
    """Read an image into a NumPy array, upright according to its EXIF orientation.

    Palette images are expanded, alpha is dropped for `"L"` and `"RGB"`, and colour is
    converted to luminance as Pillow's `"L"` mode does (ITU-R 601-2:
    `L = 0.299 R + 0.587 G + 0.114 B`). Grey images with more than 8 bits (16-bit PNG or
    TIFF) keep their precision for `mode="L"`.

    Args:
        source: A path (str or `pathlib.Path`), a `PIL.Image.Image`, encoded bytes, or
            a binary file object (its `name`, if any, is used in error messages).
        mode: `"L"` (one channel, `(H, W)`), `"RGB"` (`(H, W, 3)`) or `"RGBA"`
            (`(H, W, 4)`).

    Returns:
        A `uint8` array; `uint16` for 16-bit grey images in mode `"L"` (in `"RGB"` and
        `"RGBA"` they are scaled to `uint8`, 65535 -> 255); `float32` for floating-point
        TIFFs in every mode, values kept as stored (alpha 1.0 in `"RGBA"`).

    Raises:
        FileNotFoundError: If the path does not name an existing file.
        ValueError: If the file is not a readable image (or is truncated), or `mode` is
            not one of `"L"`, `"RGB"`, `"RGBA"`.
        TypeError: If `source` is none of the accepted types.

    Example:
    >>> from PIL import Image
    >>> load_image(Image.new("RGB", (3, 2), (255, 0, 0)))
    array([[76, 76, 76],
           [76, 76, 76]], dtype=uint8)
    """
    if mode not in LOAD_MODES:
        raise ValueError(
            f"Invalid value for argument `mode`. Expected one of {list(LOAD_MODES)}. "
            f"Received: mode={mode!r}"
        )
    image = _open(source)
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the pixels
        pass
    if image.mode in _HIGH_BIT_MODES:
        array = np.asarray(image)
        if array.dtype.kind in "iu":
            fits = array.size and array.min() >= 0 and array.max() <= 65535
            array = array.astype(np.uint16 if fits else np.float32)
        if mode == "L":
            return array
        if array.dtype == np.uint16:
            array, opaque = (array // 257).astype(np.uint8), 255  # exact for 8-bit data
        else:
            opaque = 1.0  # floats keep their values (the package's [0, 1] convention)
        stacked = np.repeat(array[:, :, None], len(mode), axis=2)
        if mode == "RGBA":
            stacked[:, :, 3] = opaque
        return stacked
    if image.mode == "P" or (
        mode == "L" and image.mode not in ("L", "1", "LA", "RGB", "RGBA")
    ):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    return np.asarray(image.convert(mode))


def _as_savable(array: np.ndarray, suffix: str) -> np.ndarray:
    """Map an edge map or image onto a dtype that `suffix` stores."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(
            "Invalid shape for argument `array`. Expected (H, W), (H, W, 1), (H, W, 3) or "
            f"(H, W, 4). Received: array.shape={array.shape}"
        )
    jpeg = _SAVE_FORMATS[suffix] == "JPEG"
    if jpeg and array.ndim == 3:
        array = array[:, :, :3]  # JPEG has no alpha
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint8 or (
        array.dtype == np.uint16 and not jpeg and array.ndim == 2
    ):
        return array
    if array.dtype.kind == "f" and _SAVE_FORMATS[suffix] == "TIFF" and array.ndim == 2:
        return array.astype(np.float32)
    if array.dtype.kind in "iuf":
        # Floats follow the package's convention of values in [0, 1].
        scale = (
            1.0 / 257
            if array.dtype == np.uint16
            else (255.0 if array.dtype.kind == "f" else 1.0)
        )
        return np.clip(np.rint(array.astype(np.float64) * scale), 0, 255).astype(
            np.uint8
        )
    raise TypeError(
        f"Cannot save an array of dtype {array.dtype}: expected bool, integer or float."
    )


def save_image(path, array) -> Path:
    """Write an array to an image file atomically (a temporary file renamed into place).

    The format follows the suffix: `.png`, `.jpg`/`.jpeg`, `.tif`/`.tiff`, or `.npy`
    (the array exactly as given). `bool` maps to 0/255, `uint8` is written as is,
    `uint16` grey to 16-bit PNG/TIFF, float grey to 32-bit float TIFF; other floats are
    taken to be in [0, 1] and stored as `round(255 * clip(x, 0, 1))`. A crash or an
    interruption never leaves a half-written file at `path`.

    Args:
        path: Destination file; its parent folder must exist.
        array: `(H, W)`, `(H, W, 1)`, `(H, W, 3)` or `(H, W, 4)`.

    Returns:
        The path written, as a `pathlib.Path`.

    Raises:
        ValueError: If the suffix or the array's shape is not supported.
        FileNotFoundError: If the parent folder does not exist.

    Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "edges.png"
    >>> save_image(path, np.eye(3, dtype=bool)).name
    'edges.png'
    >>> load_image(path)[0]
    array([255,   0,   0], dtype=uint8)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _SAVE_FORMATS:
        raise ValueError(
            f"Invalid file suffix for argument `path`. Expected one of {sorted(_SAVE_FORMATS)}. "
            f"Received: path={str(path)!r}"
        )
    data = encode_image(array, suffix)
    with atomic_path(path) as temporary, open(temporary, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    return path


def encode_image(array, suffix: str) -> bytes:
    """The bytes that `save_image` writes for `array` into a file ending in `suffix`.

    For writers that are not local files (e.g. Beam's file systems, `keras_edges.beam`).

    Args:
        array: `(H, W)`, `(H, W, 1)`, `(H, W, 3)` or `(H, W, 4)`.
        suffix: `".png"`, `".jpg"`, `".jpeg"`, `".tif"`, `".tiff"` or `".npy"` (any case).

    Returns:
        The encoded file.

    Raises:
        ValueError: If the suffix or the array's shape is not supported.

    Example:
    >>> encode_image(np.eye(3, dtype=bool), ".png")[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    suffix = suffix.lower()
    if suffix not in _SAVE_FORMATS:
        raise ValueError(
            f"Invalid value for argument `suffix`. Expected one of {sorted(_SAVE_FORMATS)}. "
            f"Received: suffix={suffix!r}"
        )
    array = np.asarray(array)
    data = array if suffix == ".npy" else _as_savable(array, suffix)
    stream = io.BytesIO()
    if suffix == ".npy":
        np.save(stream, data)
    else:
        Image.fromarray(data).save(stream, format=_SAVE_FORMATS[suffix])
    return stream.getvalue()
