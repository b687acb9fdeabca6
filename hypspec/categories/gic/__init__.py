"""The gic category: scripts of GIC register accesses."""
