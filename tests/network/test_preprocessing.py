import io

import numpy as np
import pytest
from PIL import Image

from siamese_core.network.preprocessing import (
    ImageProblem,
    centre_of_mass,
    load_image,
    to_mnist,
    to_mnist_steps,
)


def png(arr, mode=None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, "PNG")
    return buf.getvalue()


def test_off_centre_digit_ends_centred_by_centre_of_mass():
    img = np.zeros((100, 100), np.uint8)
    img[5:35, 60:70] = 255  # a bar in the top-right corner
    out = to_mnist(img)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    cy, cx = centre_of_mass(out)
    assert abs(cy - 13.5) <= 0.75 and abs(cx - 13.5) <= 0.75
    rows = np.flatnonzero(out.max(1) > 50)
    assert rows[-1] - rows[0] + 1 in (19, 20, 21)  # the long side fills 20 pixels


def test_aspect_ratio_is_kept():
    img = np.zeros((200, 200), np.uint8)
    img[50:150, 90:110] = 255  # 100 tall, 20 wide: 5:1
    out = to_mnist(img)
    ink = out > 60
    h = np.ptp(np.flatnonzero(ink.any(1))) + 1
    w = np.ptp(np.flatnonzero(ink.any(0))) + 1
    assert h == pytest.approx(20, abs=1) and w == pytest.approx(4, abs=1)


def test_black_on_white_is_inverted():
    img = np.full((60, 60), 255, np.uint8)
    img[10:50, 25:35] = 0
    out = to_mnist(png(img))
    assert out[0, 0] == 0 and out.max() == 255  # black background, white ink


def test_rgba_canvas_with_transparent_background():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[60:220, 130:150] = [255, 255, 255, 255]  # white stroke, transparent elsewhere
    out = to_mnist(rgba)
    assert out[0, 0] == 0 and out[14, 14] > 128
    # black ink on transparent (a typical exported PNG) reads the same way
    rgba2 = np.zeros((280, 280, 4), np.uint8)
    rgba2[60:220, 130:150] = [0, 0, 0, 255]
    assert np.abs(to_mnist(png(rgba2, "RGBA")).astype(int) - out.astype(int)).max() < 40


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"hello, I am text", "not an image"),
        (png(np.zeros((50, 50), np.uint8)), "blank"),
        (png(np.full((50, 50), 255, np.uint8)), "blank"),
    ],
)
def test_unreadable_or_blank_inputs_say_why(data, message):
    with pytest.raises(ImageProblem, match=message):
        to_mnist(data)


def test_a_single_dot_is_too_small():
    img = np.zeros((280, 280), np.uint8)
    img[140:143, 140:143] = 255
    with pytest.raises(ImageProblem, match="too small"):
        to_mnist(img)


def test_the_pixel_limit_is_checked_from_the_header():
    buf = io.BytesIO()
    Image.new("L", (6000, 6000)).save(buf, "PNG")  # 36 MP, tiny file
    with pytest.raises(ImageProblem, match="megapixels"):
        load_image(buf.getvalue())


# ---- photos of paper: uneven light, grain, a small digit somewhere in the frame -------------------
def paper(h=300, w=400, tilt=60.0, seed=0) -> np.ndarray:
    """Light grey paper lit from one side (a 60-level ramp) with grain, as a phone sees it."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(-tilt / 2, tilt / 2, w)[None, :] + np.linspace(-10, 10, h)[:, None]
    return np.clip(180 + ramp + rng.normal(0, 5, (h, w)), 0, 255)


def jpeg(arr: np.ndarray, quality=70) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.mark.parametrize("tilt", [0.0, 60.0, 120.0])
def test_a_gradient_with_no_ink_is_no_digit(tilt):
    with pytest.raises(ImageProblem, match="[Nn]o (single )?digit|blank"):
        to_mnist(jpeg(paper(tilt=tilt)))


def test_a_dark_digit_on_a_gradient_lands_centred_with_its_mass_in_the_middle():
    page = paper()
    page[200:260, 300:308] = 40  # a dark "1", 60 px tall, small, in the lower right
    page[200:206, 292:308] = 40  # with a flag
    steps = to_mnist_steps(jpeg(page))
    cy, cx = centre_of_mass(steps.digit)
    assert abs(cy - 13.5) <= 0.75 and abs(cx - 13.5) <= 0.75
    rows = np.flatnonzero(steps.digit.max(1) > 50)
    assert rows[-1] - rows[0] + 1 in (19, 20, 21)  # the digit fills the 20-pixel box, not the frame
    # the ink found is the stroke, not the paper's bright side
    ys, xs = np.nonzero(steps.ink)
    assert ys.min() >= 195 and xs.min() >= 287 and steps.ink.sum() < 1000
    assert steps.picture.shape == (300, 400) and steps.ink.shape == (300, 400)


def test_a_rotated_thick_stroke_stays_one_component():
    from skimage.measure import label

    from siamese_core.network.preprocessing import find_ink, remove_background

    page = np.zeros((300, 400))
    stroke = Image.new("L", (200, 200))
    stroke.paste(255, (90, 20, 112, 180))  # a thick bar, 22 px wide, 160 tall
    page[50:250, 100:300] = np.asarray(stroke.rotate(15, Image.BICUBIC), float)
    light = 255.0 - paper(seed=1)  # ink light on the inverted paper, as the pipeline sees it
    ink = find_ink(remove_background(np.maximum(light, page * 0.8)))
    assert label(ink, connectivity=2).max() == 1


def test_a_twelve_megapixel_photo_is_shrunk_before_the_work():
    page = paper(3000, 4000)
    page[1500:2100, 2000:2080] = 30
    steps = to_mnist_steps(jpeg(page, 85))
    assert max(steps.picture.shape) == 512 and steps.digit.shape == (28, 28)


def test_a_busy_picture_is_not_one_digit():
    """A face or a page of text: many separate shapes, one sentence instead of a verdict."""
    page = paper(seed=3)
    rng = np.random.default_rng(3)
    for _ in range(40):  # forty dark specks and scribbles spread over the frame
        y, x = rng.integers(10, 280), rng.integers(10, 380)
        page[y : y + rng.integers(4, 15), x : x + rng.integers(4, 15)] = 50
    with pytest.raises(ImageProblem, match="No single digit found"):
        to_mnist(jpeg(page))
