"""The broker's JVM command line: heap and the JIT option come from StackSettings."""
from pathlib import Path

from deploy.local.stack.config import StackSettings
from deploy.local.stack.kafka import _java_argv


def _argv(**kw) -> list[str]:
    return _java_argv(StackSettings(state_dir=Path("/tmp/x"), **kw), ["kafka.Kafka", "server.properties"])


def test_by_default_the_broker_jit_stays_at_its_quick_tier() -> None:
    argv = _argv()
    assert "-XX:TieredStopAtLevel=1" in argv
    assert argv[-2:] == ["kafka.Kafka", "server.properties"]  # options come before the main class


def test_jvm_options_are_configurable_and_can_be_emptied() -> None:
    assert [a for a in _argv(kafka_jvm_opts="") if a.startswith("-XX:Tiered")] == []
    argv = _argv(kafka_jvm_opts="-XX:+UseSerialGC  -Dx=1", kafka_heap="256m")
    assert argv.index("-Dx=1") < argv.index("-cp") and "-XX:+UseSerialGC" in argv
    assert "-Xmx256m" in argv and "-Xms256m" in argv
