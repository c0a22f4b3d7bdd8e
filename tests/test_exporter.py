"""Tests of grader.inkernel.exporter, called in-process: to_plain and export (no kernel)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from grader.inkernel.exporter import MAX_DEPTH, ExportError, export, to_plain
from grader.spec import Answer

# --- to_plain -------------------------------------------------------------------------------------


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__

    def __int__(self):
        return 0

    def __index__(self):
        return 0

    def __repr__(self):
        return "20234"

    __str__ = __repr__


class LyingFloat(float):
    def __float__(self):
        return 1.0

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __repr__(self):
        return "1.0"


@pytest.mark.parametrize(
    "value,plain",
    [
        (None, None),
        (True, True),
        ("text", "text"),
        (3, 3),
        (-2.5, -2.5),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        ((1, 2), [1, 2]),
        ([1, (2, 3), [4.5]], [1, [2, 3], [4.5]]),
        (torch.Size([8, 32, 16, 16]), [8, 32, 16, 16]),
        ({"a": {"b": (1, 2)}, 3: 4.0}, {"a": {"b": [1, 2]}, "3": 4.0}),
        (np.int64(7), 7),
        (np.float32(0.5), 0.5),
        (np.float64("nan"), "nan"),
        (np.bool_(True), True),
        (np.arange(6).reshape(2, 3), [[0, 1, 2], [3, 4, 5]]),
        (np.array([1.5, np.inf]), [1.5, "inf"]),
        (torch.tensor([[1.5, 2.5]]), [[1.5, 2.5]]),
        (torch.tensor(3), 3),
        (torch.tensor([1, 2], dtype=torch.int64), [1, 2]),
        (torch.tensor([0.5, 0.25], dtype=torch.float16), [0.5, 0.25]),
        (torch.tensor([1.0, 2.0], dtype=torch.float64), [1.0, 2.0]),
        (torch.tensor([True, False]), [True, False]),
        (torch.tensor([1.0, float("nan")]), [1.0, "nan"]),
        (torch.ones(2, requires_grad=True) * 3, [3.0, 3.0]),
        ([np.int64(1), torch.tensor(2.0)], [1, 2.0]),
    ],
)
def test_to_plain(value, plain):
    out = to_plain(value)
    assert out == plain
    assert json.loads(json.dumps(out)) == plain  # JSON-ready as it is


@pytest.mark.parametrize(
    "value,types",
    [
        (torch.tensor([1, 2]), [int, int]),
        (torch.tensor([1.0, 2.0]), [float, float]),
        (np.array([1, 2], dtype=np.int32), [int, int]),
        (torch.Size([2, 3]), [int, int]),
    ],
)
def test_to_plain_gives_python_types(value, types):
    assert [type(v) for v in to_plain(value)] == types


def test_tensor_that_requires_grad():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    assert to_plain(t) == [1.0, 2.0]
    assert t.requires_grad  # the student's tensor is left as it was
    p = nn.Parameter(torch.tensor([0.25, -0.5]))
    assert to_plain(p) == [0.25, -0.5]


def test_int_subclass_with_lying_eq_exports_its_real_value():
    value = LyingInt(5)
    out = to_plain(value)
    assert out == 5 and type(out) is int
    assert to_plain({"n": value}) == {"n": 5}
    assert json.dumps(to_plain([value])) == "[5]"


def test_float_subclass_with_lying_float_exports_its_real_value():
    value = LyingFloat(2.5)
    out = to_plain(value)
    assert type(out) is float and out == 2.5
    assert json.dumps(to_plain([value])) == "[2.5]"


def test_dict_keys_must_be_text():
    with pytest.raises(ExportError, match="dictionary keys must be text, got tuple"):
        to_plain({(1, 2): 3})
    with pytest.raises(ExportError, match="dictionary keys must be text, got bool"):
        to_plain({True: 3})


class Thing:
    pass


@pytest.mark.parametrize(
    "value,name",
    [
        (Thing(), "Thing"),
        ({1, 2}, "set"),
        (b"bytes", "bytes"),
        (1 + 2j, "complex"),
        (print, "builtin_function_or_method"),
        ([1, Thing()], "Thing"),
        (nn.Linear(2, 2), "Linear"),
    ],
)
def test_arbitrary_object_raises(value, name):
    with pytest.raises(ExportError) as err:
        to_plain(value)
    assert str(err.value) == f"cannot export a value of type {name}"


def _nested(levels):
    value = 1
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_limit():
    assert to_plain(_nested(MAX_DEPTH)) == _nested(MAX_DEPTH)
    with pytest.raises(ExportError, match="the answer is nested too deeply"):
        to_plain(_nested(MAX_DEPTH + 1))


def test_self_reference_is_too_deep():
    loop = []
    loop.append(loop)
    with pytest.raises(ExportError, match="nested too deeply"):
        to_plain(loop)


def test_item_limit(monkeypatch):
    from grader.inkernel import plain  # where to_plain lives (the exporter re-exports it)

    monkeypatch.setattr(plain, "MAX_ITEMS", 10)
    assert to_plain(list(range(9))) == list(range(9))  # 9 items + the list itself
    with pytest.raises(ExportError, match="more than 10 items"):
        to_plain(list(range(10)))


def test_export_error_pickles():
    err = pickle.loads(pickle.dumps(ExportError("boom")))
    assert type(err) is ExportError and str(err) == "boom"


# --- export ---------------------------------------------------------------------------------------


def spec(kind="number", name="x", **kw):
    return Answer.of(kind, name, **kw).export_spec()


def read(directory, exercise):
    return json.loads((directory / f"{exercise}.json").read_text())


@pytest.mark.parametrize(
    "namespace,payload",
    [
        ({}, {"ok": False, "error": "the answer cell must assign `x`, which is not defined"}),
        (
            {"x": ...},
            {"ok": False, "error": "`x` is still `...`: the exercise is not answered yet"},
        ),
        ({"x": Thing()}, {"ok": False, "error": "cannot export a value of type Thing"}),
        ({"x": 42}, {"ok": True, "value": 42}),
        ({"x": float("nan")}, {"ok": True, "value": "nan"}),
        ({"x": (8, 32)}, {"ok": True, "value": [8, 32]}),
        ({"x": torch.tensor([[1.0, 2.0]])}, {"ok": True, "value": [[1.0, 2.0]]}),
        ({"x": {"conv1": np.int64(896)}}, {"ok": True, "value": {"conv1": 896}}),
        ({"x": None}, {"ok": True, "value": None}),
    ],
)
def test_export_writes_the_payload(tmp_path, namespace, payload):
    export(str(tmp_path), "t-num", spec(), namespace)
    assert read(tmp_path, "t-num") == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t-num.json"]


def test_export_records_an_exception_from_the_students_object(tmp_path):
    class Broken:
        def tolist(self):
            raise RuntimeError("no")

    Broken.__module__ = "numpy.fake"  # pretend to be an array
    export(str(tmp_path), "e", spec(), {"x": Broken()})
    assert read(tmp_path, "e") == {"ok": False, "error": "RuntimeError: no"}


def test_export_overwrites_an_old_payload(tmp_path):
    export(str(tmp_path), "e", spec(), {"x": 1})
    export(str(tmp_path), "e", spec(), {"x": 2})
    assert read(tmp_path, "e") == {"ok": True, "value": 2}


def test_long_error_messages_are_cut(tmp_path):
    class Loud:
        def tolist(self):
            raise ValueError("x" * 2000)

    Loud.__module__ = "torch.fake"
    export(str(tmp_path), "e", spec(), {"x": Loud()})
    error = read(tmp_path, "e")["error"]
    assert len(error) == 501 and error.endswith("…")


def test_export_of_a_huge_int_is_recorded_not_raised(tmp_path):
    export(str(tmp_path), "e", spec(), {"x": 10**5000})
    assert read(tmp_path, "e")["ok"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.json"]


# --- models ---------------------------------------------------------------------------------------


def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_module_export_writes_weights_and_reports_structure(tmp_path):
    model = tiny()
    model.train()
    export(
        str(tmp_path),
        "t-mod",
        spec("module", "model", reference="Net", probe=(2, 4)),
        {"model": model},
    )
    payload = read(tmp_path, "t-mod")
    probe = payload.pop("probe")
    summary = payload.pop("summary")  # torchinfo's, for the report
    assert summary["total"] == 23
    assert [(r["layer"], r["shape"], r["params"]) for r in summary["rows"]] == [
        ("Sequential", [2, 2], 23),
        ("Linear", [2, 3], 15),
        ("ReLU", [2, 3], 0),
        ("Linear", [2, 2], 8),
    ]
    assert model.training  # the summary put the model back in training mode
    linear = {"in_features": 4, "out_features": 3, "bias": True}
    assert payload == {
        "ok": True,
        "class": "Sequential",
        "num_params": 4 * 3 + 3 + 3 * 2 + 2,
        "layers": [
            {"name": "0", "type": "Linear", "config": linear, "params": 15},
            {"name": "1", "type": "ReLU", "config": {}, "params": 0},
            {
                "name": "2",
                "type": "Linear",
                "config": {**linear, "in_features": 3, "out_features": 2},
                "params": 8,
            },
        ],
        "weights": "t-mod.pt",
    }
    assert probe["shape"] == [2, 2]
    x = torch.randn((2, 4), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(torch.tensor(probe["values"]), expected)
    state = torch.load(tmp_path / "t-mod.pt", weights_only=True)
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    for name, tensor in model.state_dict().items():
        assert torch.equal(state[name], tensor)
        assert not state[name].requires_grad
    assert model.training  # the probe runs in eval mode and restores the mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t-mod.json", "t-mod.pt"]


def test_layers_are_listed_in_the_order_forward_calls_them(tmp_path):
    class Shared(nn.Module):  # registers fc before conv, and calls pool twice
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)
            self.conv = nn.Conv1d(1, 1, 3)
            self.pool = nn.MaxPool1d(2)

        def forward(self, x):
            return self.fc(self.pool(self.pool(self.conv(x))).flatten(1))

    export(
        str(tmp_path), "e", spec("module", "m", reference="N", probe=(1, 1, 10)), {"m": Shared()}
    )
    layers = read(tmp_path, "e")["layers"]
    assert [(x["name"], x["type"]) for x in layers] == [
        ("conv", "Conv1d"),
        ("pool", "MaxPool1d"),
        ("pool", "MaxPool1d"),
        ("fc", "Linear"),
    ]


def test_module_export_of_the_class_builds_an_instance(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, x):
            return self.fc(x)

    export(str(tmp_path), "e", spec("module", "net", reference="Net", probe=(3, 2)), {"net": Net})
    payload = read(tmp_path, "e")
    assert (payload["ok"], payload["class"], payload["num_params"]) == (True, "Net", 3)
    assert payload["probe"]["shape"] == [3, 1]


def test_module_export_of_the_class_passes_the_arguments(tmp_path):
    class Net(nn.Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.fc = nn.Linear(n_in, n_out)

        def forward(self, x):
            return self.fc(x)

    answer = spec("module", "net", reference="Net", arguments=(2, 1), probe=(3, 2))
    export(str(tmp_path), "e", answer, {"net": Net})
    payload = read(tmp_path, "e")
    assert (payload["ok"], payload["class"], payload["num_params"]) == (True, "Net", 3)
    assert payload["probe"]["shape"] == [3, 1]


def test_module_export_of_a_non_module(tmp_path):
    export(str(tmp_path), "e", spec("module", "net", reference="Net", probe=(1,)), {"net": 3})
    assert read(tmp_path, "e") == {"ok": False, "error": "expected an nn.Module instance, got int"}


def test_module_whose_forward_fails_still_exports_with_a_probe_error(tmp_path):
    export(str(tmp_path), "e", spec("module", "m", reference="Net", probe=(2, 5)), {"m": tiny()})
    payload = read(tmp_path, "e")
    assert payload["ok"] is True and payload["num_params"] == 23
    assert payload["probe"]["error"].startswith(
        "forward on an input of shape [2, 5] raised RuntimeError: "
    )


def test_module_forward_returning_a_non_tensor(tmp_path):
    class Odd(nn.Module):
        def forward(self, x):
            return [x]

    export(str(tmp_path), "e", spec("module", "m", reference="Net", probe=(1,)), {"m": Odd()})
    assert read(tmp_path, "e")["probe"] == {"error": "forward returned a list, not a tensor"}


def test_training_export_records_losses_and_device(tmp_path):
    ns = {
        "model": tiny(),
        "losses": [torch.tensor(2.0), 1.5, np.float32(0.5)],
        "device": torch.device("cpu"),
    }
    export(str(tmp_path), "fit", spec("training", "model", reference="Net"), ns)
    payload = read(tmp_path, "fit")
    assert payload["ok"] is True
    assert payload["extras"] == {"losses": [2.0, 1.5, 0.5], "device": "cpu"}
    assert "probe" not in payload
    assert (tmp_path / "fit.pt").is_file()


def test_training_export_without_losses_still_exports_the_model(tmp_path):
    export(str(tmp_path), "fit", spec("training", "model", reference="Net"), {"model": tiny()})
    payload = read(tmp_path, "fit")
    assert payload["ok"] is True and payload["extras"] == {"losses": None, "device": None}
    assert (tmp_path / "fit.pt").is_file()
