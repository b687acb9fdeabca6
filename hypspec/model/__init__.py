"""Hypervisor models: transition systems over the architecture, run concretely and proved by induction.

A model (`models/<name>/`) is spec text on top of `spec/`: `shared var` globals for the
hypervisor's own memory, `transition` procedures for its atomic steps and `invariant`
predicates that every step preserves. Architectural state belongs to a processing element
(a physical CPU): `machine` keeps one bank of it per PE, and `induction` proves the
invariants with one obligation per transition.
"""
