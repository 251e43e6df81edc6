"""Write ``siamese_core/assets/pretrained_figures.npz`` (the pretrained model's figures on full MNIST
and on the embedded digits) and ``lab_numbers.json`` (the Weight-sharing lab's default configuration,
shared and not) and ``loss_curves.json`` (the Train page's loss panel for every preset's margin):
siamese_core/network/shipped.py. Run after the pretrained model changes:

    mkdir -p ~/.keras/datasets && cp ../shared/data/mnist.npz ~/.keras/datasets/   # full MNIST, offline
    python tools/pretrained_figures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import siamese_core  # noqa: E402,F401  (first: see siamese_core/__init__.py)
from siamese_core.network import shipped  # noqa: E402
from siamese_core.network.data import load_dataset  # noqa: E402
from siamese_core.network.evaluation import pretrained_figures  # noqa: E402
from siamese_core.network.persistence import config_from_meta, load_default  # noqa: E402


def main() -> None:
    if "--lab-only" not in sys.argv:
        figures_file()
    lab_file()
    loss_file()
    facts_file()


def figures_file() -> None:
    _model, meta = load_default()
    config = config_from_meta(meta)
    held_out = tuple(config.held_out_classes) if config else ()
    figures = {}
    for dataset in shipped.DATASETS:
        data = load_dataset(dataset, 0, held_out)
        n = min(shipped.N_POINTS, len(data.test.y))
        figures[(dataset, held_out, n)] = pretrained_figures(lambda *_: None, data, n)
        print(dataset, figures[(dataset, held_out, n)].report.as_dict())
    shipped.save(figures)
    print("wrote", shipped.FIGURES_FILE, shipped.FIGURES_FILE.stat().st_size, "bytes")


def lab_file() -> None:
    # the Weight-sharing lab's default configuration, shared and not (siamese_ui/shared.py DEFAULT_LAB)
    from siamese_core.config import SiameseConfig
    from siamese_core.network.inspect import lab_measure
    from siamese_ui.shared import DEFAULT_LAB

    configs = [SiameseConfig(shared=shared, **DEFAULT_LAB) for shared in (True, False)]
    shipped.save_lab({config: lab_measure(config) for config in configs})
    print("wrote", shipped.LAB_FILE, shipped.LAB_FILE.stat().st_size, "bytes")


def loss_file() -> None:
    from siamese_core.network.service_calls import loss_curves

    shipped.save_loss_curves({key: loss_curves(*key) for key in shipped.loss_curve_keys()})
    print("wrote", shipped.LOSS_FILE, shipped.LOSS_FILE.stat().st_size, "bytes")


def facts_file() -> None:
    import dataclasses

    from siamese_core.serving.protocol import model_facts

    model, _meta = load_default()
    shipped.save_facts(dataclasses.asdict(model_facts(model)))
    print("wrote", shipped.FACTS_FILE, shipped.FACTS_FILE.read_text())


if __name__ == "__main__":
    main()
