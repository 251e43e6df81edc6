"""The network: data, models, losses, training, evaluation, persistence, preprocessing and
inspection. The one part of the core that may import TensorFlow (each module imports it itself,
so importing this package alone stays cheap)."""
