"""The lessons beyond one training: the race of shared against unshared, composing models,
transfer, RankIQA's ranking, one-shot symbols and the N-input pitfall. Each builds on
``siamese_core.network``."""
