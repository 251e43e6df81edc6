"""One-shot with a student's own symbols, checked against distances worked out by hand."""

import numpy as np
import pytest

from siamese_core.lessons.oneshot import NONE, QuizScore, Ranking, one_shot_digits, rank_gallery


def _pixel_model():
    """A Siamese model whose distance is the Euclidean distance between two images' first pixels
    (the branch reads pixel [0, 0] scaled to 0..1; no training): distances by hand."""
    from siamese_core.network._keras import keras, layers
    from siamese_core.network.models import IMAGE_SHAPE, EuclideanDistance

    image = keras.Input(IMAGE_SHAPE, dtype="uint8")
    first = layers.Lambda(lambda t: keras.ops.cast(t[:, 0, :1], "float32") / 255.0)(image)
    branch = keras.Model(image, first, name="branch")
    a, b = keras.Input(IMAGE_SHAPE, dtype="uint8"), keras.Input(IMAGE_SHAPE, dtype="uint8")
    return keras.Model([a, b], EuclideanDistance(name="distance")([branch(a), branch(b)]))


def _image(level: int) -> np.ndarray:
    img = np.zeros((28, 28), np.uint8)
    img[0, 0] = level
    return img


def test_the_gallery_is_ranked_by_the_models_distance():
    model = _pixel_model()
    gallery = {"star": _image(255), "arrow": _image(51), "A": _image(102)}  # 1.0, 0.2, 0.4
    ranking = rank_gallery(model, gallery, _image(127), threshold=0.3)  # 127/255 = 0.498
    assert ranking.names == ("A", "arrow", "star")
    # |0.498 - 0.4| = 0.098, |0.498 - 0.2| = 0.298, |1 - 0.498| = 0.502 (a distance floor of 1e-3.5)
    assert ranking.scores == pytest.approx((0.098, 0.298, 0.502), abs=2e-3)
    assert ranking.verdict == "A"
    far = rank_gallery(model, gallery, _image(0), threshold=0.1)  # nearest: arrow at 0.2 >= 0.1
    assert far.best == "arrow" and far.verdict == NONE


def test_ties_keep_the_gallerys_order():
    ranking = Ranking(("x", "y"), (0.2, 0.2), 0.5)
    assert ranking.verdict == "x"
    model = _pixel_model()
    tie = rank_gallery(model, {"first": _image(0), "second": _image(0)}, _image(0), 0.5)
    assert tie.names == ("first", "second")


def test_a_test_round_scores_and_counts_confusions():
    score = QuizScore(("star", "arrow", "A"))
    assert score.accuracy is None
    rounds = [
        ("star", Ranking(("star", "A", "arrow"), (0.1, 0.5, 0.9), 0.3)),
        ("star", Ranking(("arrow", "star", "A"), (0.2, 0.4, 0.9), 0.3)),
        ("arrow", Ranking(("arrow", "A", "star"), (0.25, 0.6, 0.7), 0.3)),
        ("A", Ranking(("A", "star", "arrow"), (0.8, 0.9, 1.0), 0.3)),
    ]  # nearest, but not "same"
    for truth, ranking in rounds:
        score.add(truth, ranking)
    assert score.accuracy == 0.75  # the same measure as on digits: the nearest symbol
    assert score.rejected == 1
    assert score.confusion().tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_one_shot_on_digits_with_a_perfect_and_a_useless_model():
    """Images whose first pixel is their class: the pixel model is perfect; a constant is chance."""
    model = _pixel_model()
    y = np.repeat(np.arange(5), 4)
    x = np.stack([_image(50 * c) for c in y])
    assert one_shot_digits(model, x, y, n_way=5, trials=50) == 1.0
    same = np.stack([_image(7) for _ in y])  # every pair at the same distance: a useless model
    assert 0.1 <= one_shot_digits(model, same, y, n_way=5, trials=400) <= 0.3  # chance, 1 in 5
    with pytest.raises(ValueError):
        one_shot_digits(model, x[:1], y[:1], n_way=2)
