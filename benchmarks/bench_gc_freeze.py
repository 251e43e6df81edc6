"""What one full garbage collection costs a model process before and after ``gc.freeze``.

    PYTHONPATH=. taskset -c 1 python benchmarks/bench_gc_freeze.py

A model process imports TensorFlow and Keras and warms up the default preset (as
``serving/worker.py`` does), then times ``gc.collect()`` three times, freezes, and times it again.
The worker collects after every job (``memory.release_free_memory``); Python collects by itself too.
"""

import gc
import time

from siamese_core.network.shells import ModelShells
from siamese_core.serving.worker import _warm_up, import_model_code


def collect_seconds() -> float:
    start = time.process_time()
    gc.collect()
    return time.process_time() - start


def main() -> None:
    import_model_code()
    _warm_up(ModelShells())
    print(f"objects tracked by the collector: {len(gc.get_objects()):,}")
    print("gc.collect() CPU s, not frozen:", [round(collect_seconds(), 3) for _ in range(3)])
    gc.freeze()
    print(f"frozen: {gc.get_freeze_count():,}; still tracked: {len(gc.get_objects()):,}")
    print("gc.collect() CPU s, frozen:    ", [round(collect_seconds(), 3) for _ in range(3)])


if __name__ == "__main__":
    main()
