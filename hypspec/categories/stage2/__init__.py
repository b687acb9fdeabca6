"""The stage2 category and its harness: one guest access under Stage 2."""
