"""The timers category: scripts of generic timer register accesses."""
