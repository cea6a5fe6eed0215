"""Evaluation data (gold records, questions) and the benchmark (``python -m evals.bench``)."""
