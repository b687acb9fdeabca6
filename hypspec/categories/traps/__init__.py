"""The traps category and its harness: one guest instruction under a trap configuration."""
