"""Realtime fan-out: typed events, the broker that carries them, the per-worker hub."""
