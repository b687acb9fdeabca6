"""Whether an obligation's hypotheses can hold together, settled by a known model when there is one.

Every obligation of a transition is asked under hypotheses: the invariants at their instances, the
step's guard, the arguments' type ranges. Were they unsatisfiable together, every goal would
follow from them and the obligation would hold vacuously, so each case of a transition's
obligations is first shown satisfiable. Most cases share most of their hypotheses with a case
asked before (the same invariants at the same ids, the same guard that a guest runs on the PE),
and a model found for one is often a model of the next. Evaluating every hypothesis in a known
model settles the question in milliseconds, and proves satisfiability as well as the solver's own
answer does (the model is the witness); only when no known model satisfies them all is the solver
asked, and its model kept for the cases after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

# How many models are kept, newest first: evaluating one takes milliseconds, a miss costs a query.
KEPT = 32


@dataclass
class KnownModels:
    """The models that satisfied earlier cases' hypotheses, newest first."""

    models: list[z3.ModelRef] = field(default_factory=list)

    def satisfying(self, terms: list[z3.BoolRef]) -> z3.ModelRef | None:
        """A known model in which every term is true, if there is one. Constants a model does not
        mention take Z3's default value (`model_completion`), which is still a model: the
        evaluation is of one complete assignment."""
        for model in self.models:
            if all(z3.is_true(model.eval(term, model_completion=True)) for term in terms):
                return model
        return None

    def satisfiable(self, terms: list[z3.BoolRef], timeout_s: float) -> tuple[z3.CheckSatResult, str]:
        """Whether `terms` can hold together (`sat`, `unsat` or `unknown`), and the solver's reason
        for an `unknown`."""
        if self.satisfying(terms) is not None:
            return z3.sat, ""
        # Finding one model, Z3's core told the logic is several times faster than the
        # preprocessing pipeline that pays off on the obligations' unsatisfiable queries.
        solver = z3.SolverFor("QF_AUFBV")
        solver.set("timeout", int(timeout_s * 1000))
        solver.add(*terms)
        answer = solver.check()
        if answer == z3.sat:
            self.models = [solver.model(), *self.models[: KEPT - 1]]
        return answer, solver.reason_unknown() if answer == z3.unknown else ""
