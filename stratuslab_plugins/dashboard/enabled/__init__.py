"""Horizon ``enabled`` files of the stratuslab panels (see the README)."""
