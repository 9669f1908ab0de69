"""Tests for image I/O (keras_edges.io)."""

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_edges.io import (
    atomic_path,
    encode_image,
    image_files,
    load_image,
    pixel_range,
    save_image,
    to_float,
)

from conftest import IMG

RNG = np.random.default_rng(20)
GREY = RNG.integers(0, 256, (17, 23), dtype=np.uint8)
RGB = RNG.integers(0, 256, (17, 23, 3), dtype=np.uint8)


def _luminance(rgb):
    """Pillow's 'L' conversion (ITU-R 601-2 in fixed point)."""
    return (
        (rgb.astype(np.uint32) @ np.array([19595, 38470, 7471]) + 0x8000) >> 16
    ).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".npy"])
def test_grey_round_trip(tmp_path, suffix):
    """uint8 grey survives a lossless save and load unchanged."""
    path = save_image(tmp_path / f"grey{suffix}", GREY)
    loaded = np.load(path) if suffix == ".npy" else load_image(path)
    np.testing.assert_array_equal(loaded, GREY)


def test_rgb_round_trip_and_luminance(tmp_path):
    """RGB round-trips in mode 'RGB' and reads as Pillow's luminance in mode 'L'."""
    path = save_image(tmp_path / "rgb.png", RGB)
    np.testing.assert_array_equal(load_image(path, mode="RGB"), RGB)
    np.testing.assert_array_equal(load_image(path), _luminance(RGB))


def test_sixteen_bit_round_trip(tmp_path):
    """16-bit grey PNG and TIFF keep their 16 bits."""
    image = RNG.integers(0, 65536, (9, 11), dtype=np.uint16)
    for suffix in (".png", ".tif"):
        loaded = load_image(save_image(tmp_path / f"deep{suffix}", image))
        assert loaded.dtype == np.uint16
        np.testing.assert_array_equal(loaded, image)
    rgb = load_image(tmp_path / "deep.png", mode="RGB")
    np.testing.assert_array_equal(rgb[:, :, 1], image // 257)


def test_float_tiff_keeps_values_and_png_scales(tmp_path):
    """Float grey is stored exactly in TIFF; in PNG it is read as [0, 1] and scaled to 0..255."""
    edges = np.array([[0.0, 0.5], [1.0, 2.5]], "float32")
    np.testing.assert_array_equal(
        load_image(save_image(tmp_path / "e.tif", edges)), edges
    )
    np.testing.assert_array_equal(
        load_image(save_image(tmp_path / "e.png", edges)), [[0, 128], [255, 255]]
    )


FLOAT = RNG.random((9, 11), dtype=np.float32)  # the package's float convention: [0, 1]
DEEP = RNG.integers(0, 65536, (9, 11), dtype=np.uint16)


@pytest.mark.parametrize(
    "grey, suffix, opaque, as_colour",
    [
        (FLOAT, ".tif", 1.0, lambda grey: grey),  # floats stay floats, values kept
        (DEEP, ".tif", 255, lambda grey: (grey // 257).astype(np.uint8)),
        (DEEP, ".png", 255, lambda grey: (grey // 257).astype(np.uint8)),
        (GREY, ".tif", 255, lambda grey: grey),
        (GREY, ".png", 255, lambda grey: grey),
    ],
)
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_grey_depths_in_every_mode(tmp_path, grey, suffix, opaque, as_colour, mode):
    """Float, 16-bit and 8-bit grey files keep their convention in every mode.

    "L" returns the stored values; "RGB" repeats them (16-bit scaled to uint8, floats
    unchanged) and "RGBA" adds an opaque alpha (255, or 1.0 for floats).
    """
    path = tmp_path / f"grey{suffix}"
    Image.fromarray(grey).save(path)  # written by Pillow itself, not by save_image
    loaded = load_image(path, mode=mode)
    if mode == "L":
        assert loaded.dtype == grey.dtype
        np.testing.assert_array_equal(loaded, grey)
        return
    colour = as_colour(grey)
    assert loaded.dtype == colour.dtype and loaded.shape == grey.shape + (len(mode),)
    for channel in range(3):
        np.testing.assert_array_equal(loaded[:, :, channel], colour)
    if mode == "RGBA":
        np.testing.assert_array_equal(loaded[:, :, 3], opaque)


def test_bool_and_single_channel(tmp_path):
    """bool maps to 0/255 and (H, W, 1) is saved as grey."""
    mask = GREY > 128
    np.testing.assert_array_equal(
        load_image(save_image(tmp_path / "m.png", mask)), mask * 255
    )
    np.testing.assert_array_equal(
        load_image(save_image(tmp_path / "g.png", GREY[:, :, None])), GREY
    )


def test_palette_grey_alpha_and_rgba(tmp_path):
    """Palette, grey+alpha and RGBA files load as luminance with alpha dropped."""
    palette = Image.fromarray(RGB).quantize(16)
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(
        load_image(tmp_path / "p.png"), np.asarray(palette.convert("RGB").convert("L"))
    )
    alpha = RNG.integers(0, 256, GREY.shape, dtype=np.uint8)
    Image.fromarray(np.dstack([GREY, alpha]), "LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(load_image(tmp_path / "la.png"), GREY)
    Image.fromarray(np.dstack([RGB, alpha]), "RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(load_image(tmp_path / "rgba.png"), _luminance(RGB))
    assert load_image(tmp_path / "rgba.png", mode="RGBA").shape == RGB.shape[:2] + (4,)


def test_exif_rotated_jpeg_comes_back_upright(tmp_path):
    """A JPEG whose EXIF orientation says 'rotate 90 CW' loads rotated into place."""
    upright = np.zeros((40, 60), np.uint8)
    upright[:10, :20] = 255  # bright block at the top left when shown correctly
    stored = Image.fromarray(
        np.rot90(upright, k=1)
    )  # the camera stored it rotated 90 CCW
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    stored.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    loaded = load_image(tmp_path / "rotated.jpg")
    assert loaded.shape == upright.shape
    assert loaded[:10, :20].mean() > 200 and loaded[30:, 40:].mean() < 30


def test_sources_bytes_and_pil():
    """Bytes and PIL images load like the path they came from."""
    path = IMG / "coins.png"
    expected = load_image(path)
    np.testing.assert_array_equal(load_image(path.read_bytes()), expected)
    np.testing.assert_array_equal(load_image(Image.open(path)), expected)
    np.testing.assert_array_equal(load_image(str(path)), expected)


def test_jpeg_rgb_is_close(tmp_path):
    """RGB saved as JPEG reads back close to the original (lossy, smooth content)."""
    smooth = np.dstack([np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))] * 3)
    loaded = load_image(save_image(tmp_path / "s.jpg", smooth), mode="RGB")
    assert np.abs(loaded.astype(int) - smooth).mean() < 3


def test_saved_file_has_the_usual_permissions(tmp_path):
    """The renamed temporary file gets the permissions a plain open() would give (umask applied)."""
    import os

    umask = os.umask(0o022)
    try:
        path = save_image(tmp_path / "p.png", GREY)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_save_never_touches_the_process_umask(tmp_path, monkeypatch):
    """save_image never changes the umask (setting it to read it races with other threads)."""
    import os

    def forbidden(mask):
        raise AssertionError(f"os.umask({mask:o}) called")

    umask = os.umask(0o027)
    os.umask(umask)  # the test reads it here, before forbidding the call
    try:
        os.umask(0o027)
        monkeypatch.setattr(os, "umask", forbidden)
        path = save_image(tmp_path / "p.png", GREY)
    finally:
        monkeypatch.undo()
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o640


def test_save_is_atomic(tmp_path, monkeypatch):
    """A failing write leaves neither a partial file nor a temporary file behind."""
    target = tmp_path / "edges.png"
    target.write_bytes(b"previous complete result")

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", explode)
    with pytest.raises(KeyboardInterrupt):
        save_image(target, GREY)
    assert target.read_bytes() == b"previous complete result"
    assert [p.name for p in tmp_path.iterdir()] == ["edges.png"]


@pytest.mark.parametrize(
    "source, error, message",
    [
        (
            "missing.png",
            FileNotFoundError,
            r"Cannot read image 'missing.png': no such file",
        ),
        (IMG, FileNotFoundError, r"a folder"),
        (b"not an image", ValueError, r"'<bytes>': not an image file"),
        (
            3.5,
            TypeError,
            r"Expected a path \(str or pathlib.Path\), a PIL image, bytes or a binary file. "
            r"Received: source of type float",
        ),
    ],
)
def test_bad_sources(source, error, message):
    """Missing files, folders, non-images and wrong types raise the documented errors."""
    with pytest.raises(error, match=message):
        load_image(source)


def test_truncated_file(tmp_path):
    """A truncated PNG raises ValueError instead of returning a partial image."""
    buffer = io.BytesIO()
    Image.fromarray(RGB).save(buffer, "PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[:-40])
    with pytest.raises(ValueError, match="Cannot read image .*cut.png"):
        load_image(tmp_path / "cut.png")


def test_decompression_bomb_message_ends_in_one_full_stop(tmp_path, monkeypatch):
    """Pillow's own sentence (which ends in '.') is not given a second full stop."""
    Image.fromarray(GREY).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", GREY.size // 3)
    with pytest.raises(ValueError, match="decompression bomb") as caught:
        load_image(tmp_path / "big.png")
    assert str(caught.value).endswith("attack.")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_fifo_and_device_are_not_regular_files(tmp_path):
    """A named pipe or a device exists but is not a regular file, and the error says so."""
    os.mkfifo(tmp_path / "pipe.png")
    for source in (tmp_path / "pipe.png", Path("/dev/zero")):
        with pytest.raises(FileNotFoundError, match="not a regular file"):
            load_image(source)


def test_bad_save_arguments(tmp_path):
    """Unknown suffixes, bad shapes, missing folders and bad modes are reported."""
    with pytest.raises(
        ValueError,
        match=r"Expected one of \['.jpeg', '.jpg', '.npy', '.png', '.tif', '.tiff'\]",
    ):
        save_image(tmp_path / "e.gif", GREY)
    with pytest.raises(ValueError, match=r"Received: array.shape=\(4, 4, 2\)"):
        save_image(tmp_path / "e.png", np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_image(tmp_path / "nope" / "e.png", GREY)
    with pytest.raises(
        ValueError,
        match=r"`mode`. Expected one of \['L', 'RGB', 'RGBA'\]. Received: mode='CMYK'",
    ):
        load_image(IMG / "coins.png", mode="CMYK")


def test_atomic_path_replaces_files_and_folders(tmp_path):
    """A file replaces a file, a folder replaces a folder or a file, and nothing is left behind."""
    target = tmp_path / "out.keras"
    with atomic_path(target) as temporary:
        assert temporary.name == "out.keras" and temporary.parent.name.endswith(".part")
        temporary.write_text("first")
    with atomic_path(target) as temporary:
        temporary.mkdir()
        (temporary / "inside").write_text("folder")
    assert (target / "inside").read_text() == "folder"
    with atomic_path(target) as temporary:
        temporary.mkdir()
    assert target.is_dir() and not list(target.iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["out.keras"]


def test_atomic_path_keeps_the_old_result_on_error(tmp_path):
    """An error inside the block leaves the destination as it was and no temporary."""
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == [
        "a.txt"
    ]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with atomic_path(tmp_path / "no" / "b.txt"):
            pass


def test_atomic_path_replaces_a_folder_by_a_file_only_when_asked(tmp_path):
    """A file result over a folder is an error unless `replace_folder=True`."""
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("kept")
    with pytest.raises(IsADirectoryError), atomic_path(target) as temporary:
        temporary.write_text("file")
    assert (target / "keep.txt").read_text() == "kept"
    with atomic_path(target, replace_folder=True) as temporary:
        temporary.write_text("file")
    assert target.read_text() == "file"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_atomic_path_puts_the_old_folder_back_if_the_new_one_cannot_move_in(
    tmp_path, monkeypatch
):
    """A folder result moves the old `path` aside first; a failed rename restores it."""
    target = tmp_path / "model"
    target.mkdir()
    (target / "saved_model.pb").write_text("old")
    real_replace, calls = os.replace, []

    def failing_second_replace(source, destination):
        calls.append((Path(source).name, Path(destination).name))
        if len(calls) == 2:  # the old folder is aside; the new one fails to move in
            raise OSError("disk gone")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", failing_second_replace)
    with pytest.raises(OSError, match="disk gone"), atomic_path(target) as temporary:
        temporary.mkdir()
        (temporary / "saved_model.pb").write_text("new")
    assert calls[:2] == [("model", "model.previous"), ("model", "model")]
    assert (target / "saved_model.pb").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_image_files_has_one_rule_set(tmp_path):
    """Image suffixes of any case, no hidden files or folders; recursive or one level."""
    for name in ("a.png", "B.JPG", "c.txt", ".d.png", "sub/e.tif", ".git/f.png"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "folder.png").mkdir()  # a folder named like an image is not one
    names = lambda paths: [p.relative_to(tmp_path).as_posix() for p in paths]
    assert names(image_files(tmp_path)) == ["B.JPG", "a.png", "sub/e.tif"]
    assert names(image_files(tmp_path, recursive=False)) == ["B.JPG", "a.png"]
    assert names(image_files(tmp_path, pattern="**/*.tif")) == ["sub/e.tif"]
    assert names(image_files(tmp_path, pattern="**/*.tif", recursive=False)) == [
        "sub/e.tif"
    ]  # without recursion, ** is one level
    assert names(image_files(tmp_path, pattern="*.png")) == ["a.png"]


def test_pixel_ranges():
    """uint8 and uint16 scale to [0, 1]; bool, other integers and floats keep their values."""
    np.testing.assert_array_equal(
        to_float(np.array([0, 65535], np.uint16)), np.array([0, 1], np.float32)
    )
    assert to_float(np.array([255], np.uint8)).dtype == np.float32
    np.testing.assert_array_equal(to_float(np.array([-3, 7], np.int32)), [-3, 7])
    np.testing.assert_array_equal(to_float(np.array([True, False])), [1, 0])
    assert [pixel_range(t) for t in ("uint8", "uint16", "int16", "float64")] == [
        255,
        65535,
        1,
        1,
    ]
    with pytest.raises(TypeError, match="Expected bool, integer or float pixels"):
        to_float(np.array(["a"]))


def test_binary_file_source_and_encode_image(tmp_path):
    """A binary file object reads as its path does; its name is in the errors; bytes match."""
    with open(IMG / "coins.png", "rb") as stream:
        np.testing.assert_array_equal(load_image(stream), load_image(IMG / "coins.png"))
    named = io.BytesIO(b"not an image")
    named.name = "gs://bucket/x.png"
    with pytest.raises(ValueError, match=r"'gs://bucket/x.png': not an image file"):
        load_image(named)
    edges = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    for suffix in (".png", ".tiff", ".npy"):
        save_image(tmp_path / f"e{suffix}", edges)
        assert encode_image(edges, suffix) == (tmp_path / f"e{suffix}").read_bytes()
    with pytest.raises(ValueError, match=r"Received: suffix='.gif'"):
        encode_image(edges, ".gif")
