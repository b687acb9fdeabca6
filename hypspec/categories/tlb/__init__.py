"""The tlb category: scripts of memory accesses and TLB maintenance."""
