"""`cache_dofn_specs`: Beam computes a DoFn's state and timer specs once, with the same answer."""

import apache_beam as beam
from apache_beam.transforms import userstate
from apache_beam.transforms.userstate import BagStateSpec

from roots_pipeline.runner import dofn_specs


class Plain(beam.DoFn):
    def process(self, element):
        yield element


class Stateful(beam.DoFn):
    SEEN = BagStateSpec("seen", beam.coders.StrUtf8Coder())

    def process(self, element, seen=beam.DoFn.StateParam(SEEN)):  # noqa: B008 (Beam's way)
        seen.add(element)
        yield element


def test_specs_are_computed_once_per_dofn_and_unchanged(monkeypatch):
    calls = []
    original = userstate.get_dofn_specs

    def counted(dofn):
        calls.append(dofn)
        return original(dofn)

    monkeypatch.setattr(userstate, "get_dofn_specs", counted)
    dofn_specs.cache_dofn_specs()
    dofn_specs.cache_dofn_specs()  # a second call changes nothing
    plain, stateful = Plain(), Stateful()
    for _ in range(3):
        assert userstate.get_dofn_specs(plain) == original(plain) == (set(), set())
        assert userstate.get_dofn_specs(stateful) == original(stateful) == ({Stateful.SEEN}, set())
    assert userstate.is_stateful_dofn(stateful) and not userstate.is_stateful_dofn(plain)
    assert calls == [plain, stateful]
