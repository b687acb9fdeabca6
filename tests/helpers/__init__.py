"""Test machinery shared by several test modules (strategies live in tests/strategies.py)."""
