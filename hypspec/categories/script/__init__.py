"""The script harness, shared by the script categories (gic, timers, tlb), and the script language."""
