"""The shared consumer loop skips a tombstone (a compacted topic's key with no value, as profiles.v1
carries after an erasure) instead of dead-lettering it, while an undecodable value still goes to
the DLQ. The loop's process() is driven with records as aiokafka hands them."""
from __future__ import annotations

from dataclasses import dataclass

from shared.kafka.consumer import ConsumerLoop


@dataclass
class Record:
    value: bytes | None
    key: bytes = b"s1:c1"
    topic: str = "profiles.v1"
    partition: int = 0
    offset: int = 7
    headers: tuple = ()


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None]] = []

    async def send_and_wait(self, topic, value, key=None, headers=None):
        self.sent.append((topic, value))


def _loop(producer: RecordingProducer) -> ConsumerLoop:
    return ConsumerLoop(service="notifier", topics=["profiles.v1"], bootstrap="127.0.0.1:1", pool=None,
                        handlers={}, unit_of_work=lambda conn: None, producer=producer)


async def test_a_tombstone_is_skipped_not_dead_lettered():
    producer = RecordingProducer()
    assert await _loop(producer).process(Record(value=None)) == "ignored"
    assert producer.sent == []


async def test_an_undecodable_value_is_still_dead_lettered():
    producer = RecordingProducer()
    assert await _loop(producer).process(Record(value=b"not json")) == "dead_lettered"
    assert producer.sent == [("notifier.dlq", b"not json")]
