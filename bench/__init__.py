"""Blabber's load generator and benchmarks (``python -m bench``); see RESULTS.md."""
