"""Images with known boundaries: random synthetic shapes, and a reader for the BSDS500 layout.

Nothing here reads the network: `load_bsds500` reads a copy of the Berkeley Segmentation
Data Set that the user downloaded. Generation needs only NumPy, SciPy and Pillow;
`synthetic_dataset` imports TensorFlow when it is called.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from keras_edges.io import image_files, load_image, to_float
from keras_edges.thinning import thin_edges
from keras_edges.validation import check_choice, check_number

__all__ = [
    "boundaries_from_labels",
    "boundary_consensus",
    "load_bsds500",
    "load_edge_pairs",
    "synthetic_dataset",
    "synthetic_images",
    "synthetic_shapes",
]

BSDS_SPLITS = ("train", "val", "test")


# ------------------------------------------------------------------------ boundaries
def boundaries_from_labels(labels) -> np.ndarray:
    """The one-pixel boundary map of a label image (a segmentation).

    A pixel is a boundary pixel if its label differs from that of its right or its lower
    neighbour (one side of each label change only, so a boundary between two regions is
    one pixel thick); this set is then thinned with `keras_edges.metrics.thin_edges`,
    which removes the redundant corner pixels of staircases, so that the map is a fixed
    point of the thinning that the benchmark applies to predictions (a prediction equal
    to the ground truth scores F = 1). The frame of the image is not a boundary.

    Args:
        labels: A 2-D integer label image.

    Returns:
        A bool array of the same shape.

    Example:
    >>> labels = np.zeros((5, 6), int); labels[:, 3:] = 1
    >>> boundaries_from_labels(labels).astype(int)
    array([[0, 0, 1, 0, 0, 0],
           [0, 0, 1, 0, 0, 0],
           [0, 0, 1, 0, 0, 0],
           [0, 0, 1, 0, 0, 0],
           [0, 0, 1, 0, 0, 0]])
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(
            f"Invalid shape for argument `labels`. Expected a 2-D label image. Received: labels.shape={labels.shape}"
        )
    boundary = np.zeros(labels.shape, bool)
    boundary[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    boundary[:-1, :] |= labels[:-1, :] != labels[1:, :]
    return thin_edges(boundary)


# --------------------------------------------------------------------- synthetic shapes
def _check_size(size) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in size)
    except (TypeError, ValueError):
        height = width = 0
    if height < 8 or width < 8:
        raise ValueError(
            "Invalid value for argument `size`. Expected (height, width), each at least 8. "
            f"Received: size={size!r}"
        )
    return height, width


def _shape_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One random shape: a polygon, a rotated ellipse, a smooth blob or a thick curve."""
    scale = min(height, width)
    center_y, center_x = rng.uniform(0, height), rng.uniform(0, width)
    radius = rng.uniform(0.08, 0.3) * scale
    kind = rng.integers(4)
    if kind == 0:  # polygon: 3-8 vertices at random angles and radii around a centre
        count = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, count))
        radii = radius * rng.uniform(0.5, 1.2, count)
        points = list(
            zip(center_x + radii * np.cos(angles), center_y + radii * np.sin(angles))
        )
        canvas = Image.new("1", (width, height), 0)
        ImageDraw.Draw(canvas).polygon(points, fill=1)
        return np.asarray(canvas, bool)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    dy, dx = rows - center_y, cols - center_x
    if kind == 1:  # ellipse with random axes and orientation
        angle = rng.uniform(0, np.pi)
        u = dx * np.cos(angle) + dy * np.sin(angle)
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        ratio = rng.uniform(0.3, 1.0)
        return (u / radius) ** 2 + (v / (radius * ratio)) ** 2 <= 1.0
    if kind == 2:  # blob: radius r(theta) = r0 (1 + sum_k a_k cos(k theta + phi_k))
        theta = np.arctan2(dy, dx)
        profile = np.ones_like(theta)
        for k in (2, 3, 5):
            profile += rng.uniform(0, 0.25) * np.cos(
                k * theta + rng.uniform(0, 2 * np.pi)
            )
        return np.hypot(dy, dx) <= radius * profile
    # a thick curve: a quadratic Bezier stroke across part of the image
    ends = rng.uniform(0, 1, (3, 2)) * (width, height)
    t = np.linspace(0, 1, 64)[:, None]
    path = (1 - t) ** 2 * ends[0] + 2 * t * (1 - t) * ends[1] + t**2 * ends[2]
    canvas = Image.new("1", (width, height), 0)
    ImageDraw.Draw(canvas).line(
        [tuple(p) for p in path],
        fill=1,
        width=int(rng.integers(3, max(4, scale // 12))),
        joint="curve",
    )
    return np.asarray(canvas, bool)


def _fill(
    rng: np.random.Generator, level: float, height: int, width: int, texture: float
) -> np.ndarray:
    """A region's intensity: a base level, a linear shading and (with `texture`) a pattern."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * cols + np.sin(angle) * rows) / max(height, width)
    fill = level + rng.uniform(-0.08, 0.08) * ramp
    if texture > 0:
        if rng.random() < 0.5:  # a grating of random period and direction
            angle = rng.uniform(0, np.pi)
            period = rng.uniform(3, 12)
            phase = 2 * np.pi * (np.cos(angle) * cols + np.sin(angle) * rows) / period
            pattern = 0.5 * np.sin(phase)
        else:  # smoothed noise, normalised to unit range
            pattern = ndimage.gaussian_filter(
                rng.standard_normal((height, width)), rng.uniform(1, 3)
            )
            pattern = 0.5 * pattern / (np.abs(pattern).max() + 1e-12)
        fill = fill + texture * 0.1 * pattern
    return fill.astype(np.float32)


def _synthetic_one(
    rng: np.random.Generator, height, width, noise, blur, texture, shapes
):
    """One image and its boundary map from its own random generator."""
    count = int(rng.integers(shapes[0], shapes[1] + 1))
    # Region levels come from a shuffled ladder, so any two regions differ by >= 0.06.
    ladder = np.linspace(0.1, 0.9, 9)
    levels = rng.permutation(ladder)[: count + 1] + rng.uniform(-0.02, 0.02, count + 1)
    labels = np.zeros((height, width), np.int32)
    for label in range(1, count + 1):
        labels[_shape_mask(rng, height, width)] = (
            label  # later shapes occlude earlier ones
        )
    image = np.zeros((height, width), np.float32)
    for label in range(count + 1):
        region = labels == label
        if region.any():
            image[region] = _fill(rng, levels[label], height, width, texture)[region]
    if blur > 0:
        image = ndimage.gaussian_filter(image, blur, mode="nearest")
    if noise > 0:
        image = image + noise * rng.standard_normal(image.shape).astype(np.float32)
    return np.clip(image, 0, 1).astype(np.float32), boundaries_from_labels(labels)


def _generators(n: int, seed) -> list[np.random.Generator]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(
            f"Invalid value for argument `n`. Expected a non-negative int. Received: n={n!r}"
        )
    return [
        np.random.default_rng(child)
        for child in np.random.SeedSequence(seed).spawn(int(n))
    ]


def synthetic_shapes(
    n: int,
    *,
    size=(256, 256),
    noise: float = 0.05,
    blur: float = 1.0,
    texture: float = 0.5,
    shapes=(3, 8),
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Random overlapping shapes with their exact boundaries: a ground truth by construction.

    Each image paints 3 to 8 (`shapes`) random polygons, rotated ellipses, smooth blobs and
    thick Bézier curves over a background, later shapes occluding earlier ones. Every
    region is filled with its own grey level (the levels differ by at least 0.06) plus a
    gentle linear shading and, with `texture`, a grating or smooth noise pattern. The
    image is then blurred with a Gaussian of `blur` pixels, and Gaussian noise of standard
    deviation `noise` is added; values are clipped to [0, 1].

    The boundary map is that of the label image, one pixel thick, as
    `boundaries_from_labels` defines it: the pixels whose right or lower neighbour has
    another label, thinned. Image `i` depends only on `seed` and `i`, so the first
    images of a longer run are the images of a shorter one.

    Args:
        n: Number of images.
        size: `(height, width)`.
        noise: Standard deviation of the additive Gaussian noise (pixel values in [0, 1]).
        blur: Standard deviation, in pixels, of the Gaussian blur (0: sharp steps).
        texture: Strength of the texture in a region (0: flat shaded fills; 1: a pattern
            of amplitude 0.1, comparable to the contrast between regions).
        shapes: `(fewest, most)` shapes per image.
        seed: Seed for NumPy's generator; `None` draws fresh randomness.

    Returns:
        `(images, boundaries)`: float32 `(n, height, width)` in [0, 1], and bool
        `(n, height, width)`.

    Raises:
        ValueError: For a negative `n`, a size under 8 pixels or a negative amount.

    Example:
    >>> images, boundaries = synthetic_shapes(2, size=(64, 96), seed=0)
    >>> images.shape, images.dtype, boundaries.dtype
    ((2, 64, 96), dtype('float32'), dtype('bool'))
    >>> bool((synthetic_shapes(1, size=(64, 96), seed=0)[0] == images[:1]).all())
    True
    """
    height, width = _check_size(size)
    amounts = [
        check_number(name, value, low=0, high=1000)
        for name, value in (("noise", noise), ("blur", blur), ("texture", texture))
    ]
    shapes = _check_shapes(shapes)
    generators = _generators(n, seed)
    images = np.zeros((len(generators), height, width), np.float32)
    boundaries = np.zeros(images.shape, bool)
    for i, rng in enumerate(generators):
        images[i], boundaries[i] = _synthetic_one(rng, height, width, *amounts, shapes)
    return images, boundaries


def _check_shapes(shapes) -> tuple[int, int]:
    try:
        fewest, most = (int(v) for v in shapes)
    except (TypeError, ValueError):
        fewest, most = 0, -1
    if not 1 <= fewest <= most <= 8:
        raise ValueError(
            "Invalid value for argument `shapes`. Expected (fewest, most) with "
            f"1 <= fewest <= most <= 8. Received: shapes={shapes!r}"
        )
    return fewest, most


def synthetic_dataset(
    n: int,
    *,
    batch_size: int | None = 8,
    size=(256, 256),
    noise: float = 0.05,
    blur: float = 1.0,
    texture: float = 0.5,
    shapes=(3, 8),
    seed: int | None = None,
):
    """`synthetic_shapes` as a `tf.data.Dataset` of `(image, boundary)` pairs, for training.

    Images are generated lazily, one at a time, so `n` can be large. Both tensors are
    float32 `(height, width, 1)`; the boundary is 1.0 on boundary pixels. The images are
    those of `synthetic_shapes(n, ..., seed=seed)`.

    Args:
        n: Number of images.
        batch_size: Batch size, or `None` for unbatched elements.
        size, noise, blur, texture, shapes, seed: As for `synthetic_shapes`.

    Returns:
        A `tf.data.Dataset` (batched unless `batch_size` is None).

    Example:
    >>> dataset = synthetic_dataset(3, batch_size=2, size=(32, 32), seed=0)
    >>> [tuple(images.shape) for images, boundaries in dataset]
    [(2, 32, 32, 1), (1, 32, 32, 1)]
    """
    import tensorflow as tf

    height, width = _check_size(size)
    amounts = [
        check_number(name, value, low=0, high=1000)
        for name, value in (("noise", noise), ("blur", blur), ("texture", texture))
    ]
    shapes = _check_shapes(shapes)
    _generators(n, 0)  # validates n
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(
            f"Invalid value for argument `batch_size`. Expected a positive int or None. Received: batch_size={batch_size!r}"
        )
    entropy = np.random.SeedSequence(
        seed
    ).entropy  # fixed once, so every pass is the same

    def generate():
        for rng in _generators(n, entropy):
            image, boundary = _synthetic_one(rng, height, width, *amounts, shapes)
            yield image[:, :, None], boundary[:, :, None].astype(np.float32)

    spec = tf.TensorSpec((height, width, 1), tf.float32)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=(spec, spec))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(int(n)))
    if batch_size is not None:
        dataset = dataset.batch(int(batch_size))
    return dataset.prefetch(tf.data.AUTOTUNE)


def synthetic_images(
    count: int, *, size: int = 64, seed: int | None = None
) -> np.ndarray:
    """Random images with a natural-looking 1/f amplitude spectrum, values in [0, 1].

    Training material without boundaries (`keras-edges train --synthetic N`, the
    benchmarks): smooth fields with structure at every scale, as photos have. Each image
    is stretched to span [0, 1].

    Args:
        count: Number of images.
        size: Side of the square images.
        seed: Seed of NumPy's generator, for reproducible images.

    Returns:
        A float32 array of shape `(count, size, size)`.

    Example:
    >>> images = synthetic_images(2, size=16, seed=0)
    >>> images.shape, images.dtype, float(images.min()), float(images.max())
    ((2, 16, 16), dtype('float32'), 0.0, 1.0)
    """
    rng = np.random.default_rng(seed)
    frequency = np.hypot(
        *np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
    )
    amplitude = 1.0 / np.maximum(frequency, 1.0 / size)
    spectrum = np.fft.fft2(rng.standard_normal((count, size, size))) * amplitude
    fields = np.fft.ifft2(spectrum).real
    low = fields.min(axis=(1, 2), keepdims=True)
    high = fields.max(axis=(1, 2), keepdims=True)
    return ((fields - low) / (high - low)).astype(np.float32)


# ------------------------------------------------------------------------------ BSDS500
def _annotator_boundaries(path: Path) -> list[np.ndarray]:
    """The `Boundaries` of every annotator in one BSDS500 ground-truth .mat file."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        cells = loadmat(str(path))["groundTruth"]
    except KeyError:
        raise ValueError(
            f"Cannot read ground truth {str(path)!r}: it has no `groundTruth` variable."
        ) from None
    except (ValueError, OSError, NotImplementedError, MatReadError) as error:
        reason = str(error).strip() or type(error).__name__  # an empty file: no text
        raise ValueError(f"Cannot read ground truth {str(path)!r}: {reason}") from None
    boundaries = []
    for cell in np.asarray(cells, dtype=object).ravel():
        struct = cell
        while (
            isinstance(struct, np.ndarray)
            and struct.dtype.names is None
            and struct.size == 1
        ):
            struct = struct.ravel()[0]  # unwrap MATLAB's 1x1 cell and struct wrappers
        try:
            boundary = np.asarray(struct["Boundaries"])
            while boundary.dtype == object and boundary.size == 1:
                boundary = np.asarray(boundary.ravel()[0])
        except (KeyError, ValueError, IndexError, TypeError):
            raise ValueError(
                f"Cannot read ground truth {str(path)!r}: expected `groundTruth` to be a cell "
                "array of structs with a `Boundaries` field (the BSDS500 format)."
            ) from None
        boundaries.append(
            boundary.squeeze().astype(bool)
            if boundary.ndim > 2
            else boundary.astype(bool)
        )
    if not boundaries:
        raise ValueError(
            f"Cannot read ground truth {str(path)!r}: `groundTruth` holds no annotators."
        )
    return boundaries


def load_bsds500(root, split: str = "test", *, mode: str = "RGB"):
    """Read a BSDS500 split that you downloaded: images with every annotator's boundaries.

    Expects the layout of the `BSR/BSDS500/data` folder of the Berkeley Segmentation Data
    Set (Arbeláez et al., PAMI 2011)::

        root/images/{train,val,test}/<id>.jpg
        root/groundTruth/{train,val,test}/<id>.mat   # cell array `groundTruth` of structs
                                                     # with `Segmentation` and `Boundaries`

    Nothing is downloaded. Files are paired by name, in sorted order; images are read
    with `keras_edges.io.load_image` as they are iterated.

    Args:
        root: The folder that holds `images/` and `groundTruth/`.
        split: `"train"`, `"val"` or `"test"`.
        mode: Image mode for `load_image`: `"RGB"` (default) or `"L"`.

    Returns:
        A generator of `(image, boundaries)`: a uint8 image and a list of bool `(H, W)`
        boundary maps, one per annotator. The folders are checked when this is called.

    Raises:
        ValueError: If `split` is not one of the three.
        FileNotFoundError: If `root`, the split's folders or their files are missing, or
            an image has no ground truth (or the reverse).

    Example:
    >>> try:
    ...     pairs = load_bsds500("/no/such/BSDS500")  # else: for image, boundaries in pairs: ...
    ... except FileNotFoundError as error:
    ...     print(str(error).split(". ")[0])
    Cannot read BSDS500 from '/no/such/BSDS500': no such folder
    """
    check_choice("split", split, BSDS_SPLITS)
    root = Path(root)
    hint = "Download BSDS500 yourself and pass its BSR/BSDS500/data folder (with images/ and groundTruth/)."
    if not root.is_dir():
        raise FileNotFoundError(
            f"Cannot read BSDS500 from {str(root)!r}: no such folder. {hint}"
        )
    folders = {
        "images": root / "images" / split,
        "groundTruth": root / "groundTruth" / split,
    }
    for folder in folders.values():
        if not folder.is_dir():
            raise FileNotFoundError(
                f"Cannot read BSDS500 split {split!r}: folder {str(folder)!r} does not exist. {hint}"
            )
    images = {p.stem: p for p in image_files(folders["images"], recursive=False)}
    truths = {
        p.stem: p
        for p in folders["groundTruth"].iterdir()
        if p.suffix.lower() == ".mat" and not p.name.startswith(".")
    }
    if not images:
        raise FileNotFoundError(
            f"Cannot read BSDS500 split {split!r}: no .jpg images in {str(folders['images'])!r}."
        )
    for missing, present, where in (
        (sorted(set(images) - set(truths)), "images", folders["groundTruth"]),
        (sorted(set(truths) - set(images)), "ground truths", folders["images"]),
    ):
        if missing:
            shown = ", ".join(missing[:5]) + (
                f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            )
            raise FileNotFoundError(
                f"Cannot read BSDS500 split {split!r}: {len(missing)} {present} have no "
                f"counterpart in {str(where)!r}: {shown}."
            )

    def pairs():
        for stem in sorted(images):
            image = load_image(images[stem], mode=mode)
            boundaries = _annotator_boundaries(truths[stem])
            for boundary in boundaries:
                if boundary.shape != image.shape[:2]:
                    raise ValueError(
                        f"Ground truth {str(truths[stem])!r} has boundaries of shape "
                        f"{boundary.shape}, but its image is {image.shape[:2]}."
                    )
            yield image, boundaries

    return pairs()


# ------------------------------------------------------------------------ edge-map pairs
# Folder names of the image and edge-map halves of a pair folder, in the order tried:
# BIPED (`imgs/<split>/rgbr/real`, `edge_maps/<split>/rgbr/real`) and the plain layout.
PAIR_FOLDERS = (("imgs", "edge_maps"), ("images", "edges"), ("images", "edge_maps"))


def boundary_consensus(boundaries) -> np.ndarray:
    """The fraction of annotators who drew a boundary at each pixel, float32 in [0, 1].

    Args:
        boundaries: One `(H, W)` map or a list of them: bool, 0/1, 0..255 grey
            (uint8), 0..65535 grey (uint16) or floats in [0, 1] (a soft edge map is
            read as the fraction itself).

    Returns:
        A float32 `(H, W)` map.

    Example:
    >>> first = np.array([[1, 0], [0, 0]], bool); second = np.array([[1, 1], [0, 0]], bool)
    >>> boundary_consensus([first, second])
    array([[1. , 0.5],
           [0. , 0. ]], dtype=float32)
    """
    if isinstance(boundaries, np.ndarray) and boundaries.ndim == 2:
        boundaries = [boundaries]
    maps = [np.asarray(b) for b in boundaries]
    if not maps or any(m.ndim != 2 or m.shape != maps[0].shape for m in maps):
        raise ValueError(
            "Invalid value for argument `boundaries`. Expected one (H, W) map or a "
            "non-empty list of maps of one shape. Received shapes "
            f"{[m.shape for m in maps]}"
        )
    fractions = [
        to_float(m)
        if m.dtype == np.uint16 or (m.dtype == np.uint8 and m.max() > 1)
        else m.astype(np.float32)
        for m in maps
    ]
    return np.clip(np.mean(fractions, axis=0), 0.0, 1.0).astype(np.float32)


def _pair_folders(root: Path, split: str | None) -> tuple[Path, Path]:
    """The image and edge-map folders of a pair folder (BIPED or images/ + edges/).

    Without `split`, a layout whose halves both have a `train/` folder (BIPED's) is
    read at its `train` split.
    """
    root = Path(root)
    for images_name, edges_name in PAIR_FOLDERS:
        images, edges = root / images_name, root / edges_name
        if not (images.is_dir() and edges.is_dir()):
            continue
        if split is None and (images / "train").is_dir() and (edges / "train").is_dir():
            split = "train"
        if split is not None:
            images, edges = images / split, edges / split
            if (images / "rgbr" / "real").is_dir():  # BIPED's full path
                images, edges = images / "rgbr" / "real", edges / "rgbr" / "real"
            if not (images.is_dir() and edges.is_dir()):
                found = sorted(p.name for p in images.parent.iterdir() if p.is_dir())
                raise FileNotFoundError(
                    f"Cannot read image / edge-map pairs from {str(root)!r}: no split "
                    f"{split!r} (expected the folders {str(images)!r} and "
                    f"{str(edges)!r}). Received the splits {found}"
                )
        return images, edges
    layouts = " or ".join(
        f"{a}/{'<split>/' if split else ''}... with {b}/{'<split>/' if split else ''}..."
        for a, b in PAIR_FOLDERS[:2]
    )
    raise FileNotFoundError(
        f"Cannot read image / edge-map pairs from {str(root)!r}: expected the folders "
        f"{layouts} (edge maps as PNG, named like their images). Received: "
        f"{sorted(p.name for p in root.iterdir()) if root.is_dir() else 'no such folder'}"
    )


def _files_by_stem(folder: Path) -> dict:
    """The image files under `folder` by relative path without suffix; one file each.

    Raises:
        ValueError: If two files share a name but for the suffix (naming both).
    """
    files = {}
    for path in image_files(folder):
        stem = str(path.relative_to(folder).with_suffix(""))
        if stem in files:
            raise ValueError(
                f"Cannot read image / edge-map pairs: {str(files[stem])!r} and "
                f"{str(path)!r} have one name; rename or remove one of them."
            )
        files[stem] = path
    return files


def _check_partners(images: dict, edges: dict, folders: tuple[Path, Path]) -> None:
    """Every image has an edge map and every edge map an image, or a FileNotFoundError."""
    for have, lack, there, what in (
        (images, edges, folders[1], ("images", "edge map")),
        (edges, images, folders[0], ("edge maps", "image")),
    ):
        missing = sorted(set(have) - set(lack))
        if missing:
            raise FileNotFoundError(
                f"Cannot read image / edge-map pairs: {len(missing)} {what[0]} have no "
                f"{what[1]} in {str(there)!r}, e.g. {str(have[missing[0]])!r} (expected "
                f"{str(there / missing[0])!r} with an image suffix such as .png)."
            )


def _read_edge_map(path: Path) -> np.ndarray:
    """An edge map at its own scale: uint8 (8-bit files) or float32 in [0, 1].

    16-bit maps are divided by 65535, float maps must hold values in [0, 1], and colour
    maps are read as their brightest channel (a red line on black is a full edge).
    """
    edge_map = load_image(path, mode="L")
    if edge_map.dtype == np.uint8:
        colour = load_image(path, mode="RGB")
        if not (colour == colour[..., :1]).all():
            edge_map = colour.max(axis=-1)
        return edge_map
    edge_map = to_float(edge_map)
    if not (np.isfinite(edge_map).all() and 0 <= edge_map.min() <= edge_map.max() <= 1):
        raise ValueError(
            f"Edge map {str(path)!r} holds float values in [{edge_map.min()}, "
            f"{edge_map.max()}]: expected 8- or 16-bit integers, or floats in [0, 1]."
        )
    return edge_map


def load_edge_pairs(root, *, split: str | None = None) -> list:
    """Read a folder of images and their edge maps (the BIPED layout, and most user data).

    Two layouts are read, with the edge maps named like their images (any image suffix
    for both; 0 = no edge):

        root/images/<name>.jpg   with   root/edges/<name>.png   (or edge_maps/)
        root/imgs/<split>/rgbr/real/<name>.jpg   with   root/edge_maps/<split>/rgbr/real/<name>.png

    Sub-folders are paired by their relative path; a layout with `train/` folders in
    both halves (BIPED's) is read at one split, `"train"` unless `split` says another.
    Every image needs its edge map and every edge map its image, and two files of one
    name but for the suffix (`p0.jpg` and `p0.png`) are an error. Edge maps are read at
    their own depth: 8-bit grey 0..255, 16-bit grey 0..65535 (returned as float32 in
    [0, 1]), float TIFF in [0, 1]; a colour map is read as its brightest channel (so a
    pure red line on black is a full edge, not luminance 76). A soft edge map (values
    between 0 and full scale) is read as the fraction of annotators who drew each pixel.

    Args:
        root: The folder that holds the two halves.
        split: A sub-folder of both halves (BIPED's `"train"` or `"test"`); None reads
            `"train"` where both halves have one, else the whole halves.

    Returns:
        A list of `(image, [edge_map])`: a uint8 RGB image and a one-element list with its
        grey edge map (uint8, or float32 in [0, 1] for 16-bit and float files), as
        `load_bsds500` yields its annotators.

    Raises:
        FileNotFoundError: If the folders or the split are missing, hold no images, or an
            image has no edge map or an edge map no image (naming the file).
        ValueError: If an edge map's size differs from its image's (naming both), two
            files share a name, or a file cannot be read.

    Example:
    >>> try:
    ...     load_edge_pairs("/no/such/folder")
    ... except FileNotFoundError as error:
    ...     print(str(error).split(":")[0])
    Cannot read image / edge-map pairs from '/no/such/folder'
    """
    root = Path(root)
    images_folder, edges_folder = _pair_folders(root, split)
    images, edges = _files_by_stem(images_folder), _files_by_stem(edges_folder)
    if not images:
        raise FileNotFoundError(
            f"Cannot read image / edge-map pairs: no images in {str(images_folder)!r}."
        )
    _check_partners(images, edges, (images_folder, edges_folder))
    pairs = []
    for stem in sorted(images):
        image = load_image(images[stem], mode="RGB")
        edge_map = _read_edge_map(edges[stem])
        if edge_map.shape != image.shape[:2]:
            raise ValueError(
                f"Edge map {str(edges[stem])!r} has shape {edge_map.shape}, but its image "
                f"{str(images[stem])!r} is {image.shape[:2]}: they must be the same size."
            )
        pairs.append((image, [edge_map]))
    return pairs
