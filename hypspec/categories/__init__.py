"""The vector categories, one package each (`registry.CATEGORIES` lists them).

A category's package holds everything about it: the generator `hypspec vectors` runs
(``generate.py``) and the `Category` (``category.py``) that tells `hypspec conform` which harness
its vectors run on.  A harness package (``stage2``, ``traps``, ``script``) also holds its case
(``case.py``), its lowering to an image (``image.py``), its run on QEMU (``qemu.py``) and the
comparison of what QEMU did with what the vector expects, with the board manifests
(``conform.py``).  Categories may share a harness: ``gic``, ``timers`` and ``tlb`` are scripts
run on the script harness.
"""
