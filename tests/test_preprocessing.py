import io

import numpy as np
import pytest
from PIL import Image

from siamese_core.preprocessing import ImageProblem, centre_of_mass, load_image, to_mnist


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
