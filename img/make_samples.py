"""Regenerate the sample images in this folder (run once; the outputs are committed).

The photos come from scikit-image's bundled data (public domain / CC0, see README.md);
the colour ones are re-encoded as JPEG so that each file stays under ~200 KB. The
arrows image is drawn with Pillow, like the seed notebook's example.
Usage: python img/make_samples.py  (needs scikit-image installed; nothing at run time does)
"""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent


def draw_arrows(size=(320, 240)):
    """Draw white arrows pointing in the four directions on a black background."""
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    width, height = size
    cx, cy = width // 2, height // 2
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        tip = (cx + dx * 100, cy + dy * 100)
        start = (cx + dx * 25, cy + dy * 25)
        draw.line([start, tip], fill=255, width=9)
        side = (-dy, dx)
        back = (tip[0] - dx * 30, tip[1] - dy * 30)
        head = [
            tip,
            (back[0] + side[0] * 22, back[1] + side[1] * 22),
            (back[0] - side[0] * 22, back[1] - side[1] * 22),
        ]
        draw.polygon(head, fill=255)
    draw.ellipse([cx - 14, cy - 14, cx + 14, cy + 14], fill=160)
    return image


def main():
    import skimage.data

    draw_arrows().save(HERE / "arrows.png", optimize=True)
    Image.fromarray(skimage.data.camera()).save(HERE / "camera.png", optimize=True)
    Image.fromarray(skimage.data.coins()).save(HERE / "coins.png", optimize=True)
    for name in ("astronaut", "coffee", "chelsea"):
        array = getattr(skimage.data, name)()
        Image.fromarray(array).save(HERE / f"{name}.jpg", quality=88, optimize=True)


if __name__ == "__main__":
    main()
