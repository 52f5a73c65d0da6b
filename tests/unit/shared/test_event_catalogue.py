"""The catalogue is one registry: every event type has one home topic and a v1 data model, and the
derived lists agree with it."""
from collections import Counter

from pydantic import BaseModel

from shared.events.registry import ALL, BY_NAME, DATA_MODELS, TOPIC_OF_TYPE, all_topic_names, types_of


def test_every_type_has_one_home_topic_and_a_model():
    counts = Counter(et for t in ALL for et in t.event_types)
    assert [et for et, n in counts.items() if n > 1] == []
    for t in ALL:
        for et, model in t.models.items():
            assert issubclass(model, BaseModel), et
            assert DATA_MODELS[(et, 1)] is model and TOPIC_OF_TYPE[et] == t.name


def test_topic_names_follow_the_convention_and_include_dead_letters():
    names = all_topic_names()
    assert all(n.rsplit(".", 1)[-1].startswith("v") or n.endswith(".dlq") for n in names)
    assert {"notifier.dlq", "loyalty.dlq", "reviews.dlq"} <= set(names)
    assert types_of("catalog.v1") == {"product.upserted", "product.deleted"}
    assert BY_NAME["catalog.v1"].compacted and not BY_NAME["orders.v1"].compacted
