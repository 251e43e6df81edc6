"""Command line: ``python -m siamese_core {params,train,evaluate,compare} ... [--json]``.

Errors print one line to stderr and exit 2; no traceback for anything a user can cause.
"""

from __future__ import annotations

import argparse
import json
import sys

from siamese_core.config import DATASETS, PRESETS, SPLIT_SEED

EXTRA_PRESETS = ("multi-input-lstm",)


class CliError(Exception):
    """A user-caused problem: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise CliError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m siamese_core", description="Siamese Lab's core, from the shell.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    names = ", ".join([*PRESETS, *EXTRA_PRESETS])

    q = sub.add_parser("params", help="parameter counts of a preset's model")
    q.add_argument("--preset", required=True, help=names)
    q.add_argument("--unshared", action="store_true", help="independent branches (rebuilt per input)")
    q.add_argument("--inputs", type=int, default=6, help="inputs of multi-input-lstm (default 6)")
    q.add_argument("--json", action="store_true")

    t = sub.add_parser("train", help="train a preset and report test accuracy")
    t.add_argument("--preset", required=True, help=", ".join(PRESETS))
    t.add_argument("--data", choices=DATASETS, default="auto")
    t.add_argument("--epochs", type=int)
    t.add_argument("--unshared", action="store_true")
    t.add_argument("--seed", type=int)
    t.add_argument("--pairs-per-epoch", type=int)
    t.add_argument(
        "--exclude-embedded",
        action="store_true",
        help="leave out the 5,000 digits of the embedded set (for the default model)",
    )
    t.add_argument("--out", help="save the trained model as FILE.keras")
    t.add_argument("--json", action="store_true")

    e = sub.add_parser("evaluate", help="test-set report of a saved model")
    e.add_argument("--model", required=True)
    e.add_argument("--data", choices=DATASETS, default="auto")
    e.add_argument("--json", action="store_true")

    c = sub.add_parser("compare", help="are two digit images the same digit?")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--model", help="a .keras model (default: the pretrained default)")
    c.add_argument("--json", action="store_true")
    return p


def _emit(obj: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(obj))
    else:
        for k, v in obj.items():
            print(f"{k}: {v}")


def cmd_params(args) -> dict:
    from siamese_core.lessons.n_inputs import build_multi_input
    from siamese_core.network.inspect import param_breakdown
    from siamese_core.network.models import build_siamese

    if args.preset == "multi-input-lstm":
        if not 1 <= args.inputs <= 16:
            raise CliError("--inputs must be between 1 and 16")
        model = build_multi_input(args.inputs, reuse=not args.unshared)
        reused = build_multi_input(1, reuse=True)  # one stack + LSTM + output
        head = reused.get_layer("lstm").count_params() + reused.get_layer("out").count_params()
        branch = reused.count_params() - head
        return {
            "preset": args.preset,
            "total": model.count_params(),
            "branch": branch,
            "shared": not args.unshared,
            "inputs": args.inputs,
        }
    if args.preset not in PRESETS:
        raise CliError(f"unknown preset {args.preset!r}; choose from {', '.join([*PRESETS, *EXTRA_PRESETS])}")
    config = PRESETS[args.preset].replace(shared=not args.unshared)
    b = param_breakdown(build_siamese(config))
    return {"preset": args.preset, **b.as_dict()}


def cmd_train(args) -> dict:
    from siamese_core.network.data import DatasetUnavailable, load_dataset
    from siamese_core.network.training import TrainingJob

    if args.preset not in PRESETS:
        raise CliError(f"unknown preset {args.preset!r}; choose from {', '.join(PRESETS)}")
    config = PRESETS[args.preset].replace(dataset=args.data, shared=not args.unshared)
    try:
        if args.epochs is not None:
            config = config.replace(epochs=args.epochs)
        if args.seed is not None:
            config = config.replace(seed=args.seed)
        if args.pairs_per_epoch is not None:
            config = config.replace(pairs_per_epoch=args.pairs_per_epoch)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.out and not args.out.endswith(".keras"):
        raise CliError("--out must end in .keras")
    try:
        ds = load_dataset(
            config.dataset,
            SPLIT_SEED,
            config.held_out_classes,
            val_size=config.val_size,
            exclude_embedded=args.exclude_embedded,
        )
    except DatasetUnavailable as exc:
        raise CliError(str(exc)) from exc
    if ds.note:
        print(ds.note, file=sys.stderr)

    def progress(e):
        if e["kind"] == "epoch":
            row = e["row"]
            print(
                f"epoch {row.epoch}/{config.epochs}: loss {row.loss:.4f} "
                f"val_loss {row.val_loss:.4f} val_acc {row.val_pair_accuracy:.4f} "
                f"({row.seconds:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
        elif e["kind"] == "status" and e.get("reason"):
            print(f"{e['status']}: {e['reason']}", file=sys.stderr)

    job = TrainingJob(config, ds, on_event=progress)
    result = job.run()
    if result is None:
        raise CliError(f"training failed: {job.reason}")
    if args.out:
        from siamese_core.network.persistence import save_model

        command = "python -m siamese_core " + " ".join(sys.argv[1:])
        save_model(
            job.model,
            args.out,
            config,
            threshold=job.threshold,
            dataset=ds.name,
            test_pair_accuracy=result.test_pair_accuracy,
            command=command,
            history=[row.as_dict() for row in job.epochs],  # the JSON the file has always held
            excluded_embedded=args.exclude_embedded,
        )
    return {"preset": args.preset, **result.as_dict(), **({"saved_to": args.out} if args.out else {})}


def _load(path):
    from siamese_core.network.persistence import ModelProblem, load_default, load_model

    try:
        return load_model(path) if path else load_default()
    except FileNotFoundError as exc:
        raise CliError(f"no such model file: {path}") from exc
    except ModelProblem as exc:
        raise CliError(str(exc)) from exc


def cmd_evaluate(args) -> dict:
    from siamese_core.network.data import DatasetUnavailable, load_dataset
    from siamese_core.network.evaluation import evaluate
    from siamese_core.network.persistence import config_from_meta

    model, meta = _load(args.model)
    config = config_from_meta(meta)
    try:
        ds = load_dataset(args.data, SPLIT_SEED, config.held_out_classes if config else ())
    except DatasetUnavailable as exc:
        raise CliError(str(exc)) from exc
    threshold = float(meta.get("threshold", 0.5))
    report = evaluate(model, ds, threshold)
    return {**report.as_dict(), "dataset": ds.name, "dataset_note": ds.note}


def cmd_compare(args) -> dict:
    from pathlib import Path

    from siamese_core.network.preprocessing import ImageProblem, to_mnist

    images = []
    for name in (args.a, args.b):
        try:
            images.append(to_mnist(Path(name).read_bytes()))
        except FileNotFoundError as exc:
            raise CliError(f"no such file: {name}") from exc
        except IsADirectoryError as exc:
            raise CliError(f"{name} is a directory, not an image") from exc
        except ImageProblem as exc:
            raise CliError(f"{name}: {exc}") from exc
    model, meta = _load(args.model)
    from siamese_core.network.compare import compare_pair

    return compare_pair(model, images[0], images[1], float(meta.get("threshold", 0.5))).as_dict()


COMMANDS = {"params": cmd_params, "train": cmd_train, "evaluate": cmd_evaluate, "compare": cmd_compare}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        out = COMMANDS[args.command](args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    _emit(out, getattr(args, "json", False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
