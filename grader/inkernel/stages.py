"""The stages of a model's forward as plain data: each operation it applies, in order, with
the shape of what it outputs, from a ``torch.fx`` trace.

Runs in the student's kernel (on the exporter's fresh copy of the student's model) and in the
grader (on its reference architecture), so both sides describe a forward the same way. A
stage is a call of a module (``{"op": "Conv2d", "name": "features.0"}``), of a function
(``{"op": "max_pool2d"}``: ``F.max_pool2d``, ``torch.flatten``) or of a tensor method
(``{"op": "view"}``), each with the shape of its tensor output and the positions of the
stages whose outputs it reads (``"inputs"``, 0 for the model's input); calls whose result is
no tensor (``x.size(0)``) are no stage. A model that does not trace (Python control flow on
values, an untraceable call), or whose trace computes other outputs than its forward (code
that takes another path when traced), has no stages: ``stages`` says why, and the grader
then says nothing about them. Imports torch only when called.
"""

from __future__ import annotations

from typing import Any

MAX_STAGES = 500  # a forward with more stages than this is described as untraced
_CALLS = ("call_module", "call_function", "call_method")


def stages(model: Any, probe: Any) -> list[dict[str, Any]] | str:
    """The stages of ``model``'s forward on ``probe`` (in eval mode, without gradients), or
    why there are none (a short message). Leaves ``model`` in eval mode: pass a copy."""
    import torch
    import torch.fx

    shapes: dict[Any, list[int]] = {}

    class _Shapes(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            result = super().run_node(n)
            if isinstance(result, torch.Tensor):
                shapes[n] = [int(d) for d in result.shape]
            return result

    try:
        model.eval()
        graph = torch.fx.symbolic_trace(model)
        calls = [n for n in graph.graph.nodes if n.op in _CALLS]
        if len(calls) > 4 * MAX_STAGES:
            return f"its forward has more than {MAX_STAGES} stages"
        with torch.no_grad():
            traced = _Shapes(graph).run(probe)
            computed = model(probe)
        if not (
            isinstance(traced, torch.Tensor)
            and isinstance(computed, torch.Tensor)
            and traced.shape == computed.shape
            and torch.allclose(traced, computed, rtol=1e-4, atol=1e-6)
        ):  # a forward that takes another path when traced: its trace describes nothing
            return "the traced forward computes other outputs than the model's forward"
        position = {n: 0 for n in graph.graph.nodes if n.op == "placeholder"}
        out: list[dict[str, Any]] = []
        for node in calls:
            if node not in shapes:
                continue
            if len(out) == MAX_STAGES:
                return f"its forward has more than {MAX_STAGES} stages"
            stage = _stage(graph, node, shapes[node])
            stage["inputs"] = [position[n] for n in node.all_input_nodes if n in position][:16]
            out.append(stage)
            position[node] = len(out)
        return out
    except Exception as e:  # the student's model: why it does not trace is data
        return f"{type(e).__name__}: {str(e)[:200]}"


def _stage(graph: Any, node: Any, shape: list[int]) -> dict[str, Any]:
    if node.op == "call_module":
        module = graph.get_submodule(node.target)
        return {"op": type(module).__name__[:60], "name": str(node.target)[:80], "shape": shape}
    if node.op == "call_method":
        return {"op": str(node.target)[:60], "shape": shape}
    name = getattr(node.target, "__name__", None)
    return {"op": str(name if isinstance(name, str) else node.target)[:60], "shape": shape}
