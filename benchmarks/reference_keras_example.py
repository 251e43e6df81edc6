"""A faithful re-implementation of the Keras ``mnist_siamese`` example, the
reference every speed and memory figure in BENCHMARKS.md is compared with.

Kept as the example wrote it on purpose: float32 images, every pair materialised as a
(n, 2, 28, 28) array, the distance through a ``Lambda`` layer, RMSprop, batch 128, 20
epochs. Only the label shape is fixed to (n, 1) so Keras 3 trains it correctly (with
(n,) labels it sits at 50%; see NOTES). Never import this from the app.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np


def run(
    epochs: int = 20, target: float = 0.972, seed: int = 0, on_epoch=None, stop_at_target: bool = False
) -> dict:
    import time

    import keras
    from keras import layers
    from keras import ops as K  # Keras 3: the backend functions the seed used live in keras.ops

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    # The same arrays as keras.datasets.mnist.load_data(), read from Keras's cache (that
    # loader deletes a cached copy whose file hash differs; see siamese_core/network/data.py).
    from siamese_core.network.data import load_arrays

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    num_classes = 10

    def euclidean_distance(vects):
        x, y = vects
        sum_square = K.sum(K.square(x - y), axis=1, keepdims=True)
        return K.sqrt(K.maximum(sum_square, keras.config.epsilon()))

    def contrastive_loss(y_true, y_pred):
        margin = 1
        return K.mean(y_true * K.square(y_pred) + (1 - y_true) * K.square(K.maximum(margin - y_pred, 0)))

    def create_pairs(x, digit_indices):
        pairs, labels = [], []
        n = min(len(digit_indices[d]) for d in range(num_classes)) - 1
        for d in range(num_classes):
            for i in range(n):
                z1, z2 = digit_indices[d][i], digit_indices[d][i + 1]
                pairs += [[x[z1], x[z2]]]
                inc = random.randrange(1, num_classes)
                dn = (d + inc) % num_classes
                z1, z2 = digit_indices[d][i], digit_indices[dn][i]
                pairs += [[x[z1], x[z2]]]
                labels += [1, 0]
        return np.array(pairs), np.array(labels)

    def create_base_network(input_shape):
        inp = layers.Input(shape=input_shape)
        x = layers.Flatten()(inp)
        x = layers.Dense(128, activation="relu")(x)
        x = layers.Dropout(0.1)(x)
        x = layers.Dense(128, activation="relu")(x)
        x = layers.Dropout(0.1)(x)
        x = layers.Dense(128, activation="relu")(x)
        return keras.Model(inp, x)

    def accuracy(y_true, y_pred):
        return K.mean(K.equal(y_true, K.cast(y_pred < 0.5, y_true.dtype)))

    x_train, y_train, x_test, y_test = load_arrays("mnist")
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    input_shape = x_train.shape[1:]
    tr_pairs, tr_y = create_pairs(x_train, [np.where(y_train == i)[0] for i in range(num_classes)])
    te_pairs, te_y = create_pairs(x_test, [np.where(y_test == i)[0] for i in range(num_classes)])
    tr_y = tr_y.astype("float32").reshape(-1, 1)
    te_y = te_y.astype("float32").reshape(-1, 1)

    base = create_base_network(input_shape)
    a, b = layers.Input(shape=input_shape), layers.Input(shape=input_shape)
    distance = layers.Lambda(euclidean_distance, output_shape=lambda s: (s[0][0], 1))([base(a), base(b)])
    model = keras.Model([a, b], distance)
    model.compile(loss=contrastive_loss, optimizer=keras.optimizers.RMSprop(), metrics=[accuracy])

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            self.train_seconds, self.curve = 0.0, []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.train_seconds += time.perf_counter() - self.t0  # evaluation below not counted
            pred = self.model.predict([te_pairs[:, 0], te_pairs[:, 1]], verbose=0, batch_size=1024)
            acc = float(np.mean((pred.ravel() < 0.5) == (te_y.ravel() == 1)))
            self.curve.append((epoch + 1, self.train_seconds, acc))
            if on_epoch:
                on_epoch(epoch + 1, self.train_seconds, acc)
            if stop_at_target and acc >= target:
                self.model.stop_training = True  # only the time to the target is wanted

    timer = Timer()
    model.fit(
        [tr_pairs[:, 0], tr_pairs[:, 1]], tr_y, batch_size=128, epochs=epochs, verbose=0, callbacks=[timer]
    )
    return {"curve": timer.curve, "train_pairs": len(tr_y)}
