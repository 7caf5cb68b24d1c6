"""Dock panels: history, jobs, mixer, effects, remix."""
