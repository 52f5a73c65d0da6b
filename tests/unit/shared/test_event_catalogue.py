"""The catalogue is complete: every event type of every topic has a v1 data model, and every
type belongs to exactly one home topic."""
from collections import Counter

from shared.events.registry import DATA_MODELS
from shared.events.topics import ALL, TOPIC_OF_TYPE


def test_every_event_type_has_a_model():
    missing = [(t.name, et) for t in ALL for et in t.event_types if (et, 1) not in DATA_MODELS]
    assert missing == []


def test_every_type_has_one_home_topic_and_every_model_a_topic():
    counts = Counter(et for t in ALL for et in t.event_types)
    assert [et for et, n in counts.items() if n > 1] == []
    assert {et for et, _ in DATA_MODELS} == set(TOPIC_OF_TYPE)
