"""Performance benchmarks for gptimg-desktop; run them with `python benchmarks/run.py` (see run.py)."""
