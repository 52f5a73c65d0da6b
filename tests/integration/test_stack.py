"""The local stack works for real: Kafka 4 via aiokafka and faust, PostgreSQL per-service
databases, the SMTP sink and its fault injection. Needs `aftercart stack up` first; no fakes.

Every test uses fresh random topic/group/app/address names, so runs never collide with each
other or with services using the same stack (nothing is produced into the real topics).
"""
from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import uuid
from email.message import EmailMessage

import aiosmtplib
import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from deploy.local.stack.config import SERVICES, StackSettings
from deploy.local.stack.kafka import ensure_topics
from deploy.local.stack.procs import port_open
from shared.events.registry import BY_NAME, PARTITIONS, all_topic_names

pytestmark = pytest.mark.integration

S = StackSettings()
BOOTSTRAP = S.bootstrap_servers()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session", autouse=True)
def stack_is_up():
    down = [f"{n}:{p}" for n, p in (("kafka", S.kafka_port), ("postgres", S.pg_port),
                                    ("smtp", S.smtp_port), ("mail-http", S.mail_http_port))
            if not port_open(S.host, p)]
    if down:
        pytest.fail(f"stack not running ({', '.join(down)}); run `aftercart stack up` first")


@pytest.fixture
async def admin():
    client = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await client.start()
    yield client
    await client.close()


@pytest.fixture
async def fresh_topic(admin):
    """A new 3-partition topic, deleted afterwards (with any faust-made topics of the test)."""
    name = uid("test.stack")
    assert (await ensure_topics(BOOTSTRAP, [name]))[name] == "created"
    yield name
    leftovers = [t for t in await admin.list_topics() if t.startswith(name)]
    await admin.delete_topics(leftovers)


@pytest.fixture
async def mail_api():
    async with httpx.AsyncClient(base_url=S.mail_api_url(), timeout=10) as client:
        yield client


# ---------------------------------------------------------------- Kafka
async def test_every_topic_exists_with_partitions_and_compaction(admin):
    names = all_topic_names()
    meta = {t["topic"]: t for t in await admin.describe_topics(names)}
    for name in names:
        assert meta[name]["error_code"] == 0, name
        assert len(meta[name]["partitions"]) == PARTITIONS, name
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, n, {"cleanup.policy": None}) for n in names])
    policy = {r[3]: dict((e[0], e[1]) for e in r[4])["cleanup.policy"]
              for resp in responses for r in resp.resources}
    for name in names:
        compacted = name in BY_NAME and BY_NAME[name].compacted
        assert policy[name] == ("compact" if compacted else "delete"), name


async def test_ensure_topics_is_idempotent():
    result = await ensure_topics(BOOTSTRAP)
    assert set(result) == set(all_topic_names())
    assert set(result.values()) == {"exists"}


async def test_idempotent_producer_and_manually_committed_group(fresh_topic):
    key = uid("shop:c").encode()
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent = [await producer.send_and_wait(fresh_topic, f"v{i}".encode(), key=key)
                for i in range(5)]
    finally:
        await producer.stop()
    tp = TopicPartition(fresh_topic, sent[0].partition)
    assert {m.partition for m in sent} == {tp.partition}  # same key, same partition
    assert [m.offset for m in sent] == list(range(sent[0].offset, sent[0].offset + 5))

    group = uid("test-group")

    async def consume(expect: int) -> list[bytes]:
        consumer = AIOKafkaConsumer(fresh_topic, bootstrap_servers=BOOTSTRAP, group_id=group,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            got: list[bytes] = []
            async with asyncio.timeout(30):
                while len(got) < expect:
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        got += [r.value for r in records]
            await consumer.commit()
            return got
        finally:
            await consumer.stop()

    assert await consume(5) == [f"v{i}".encode() for i in range(5)]

    # The committed offset is where the group resumes: only the new record comes back.
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all")
    await producer.start()
    await producer.send_and_wait(fresh_topic, b"v5", key=key)
    await producer.stop()
    assert await consume(1) == [b"v5"]


FAUST_APP = """
import faust

app = faust.App({app_id!r}, broker="kafka://{bootstrap}", value_serializer="raw",
                web_enabled=False)
source = app.topic({topic!r}, value_type=bytes)


@app.agent(source, concurrency=1)
async def watch(stream):
    async for value in stream:
        # One string: faust's worker logs each stdout write() as a separate log line.
        print(f"SEEN {{value.decode()}}", flush=True)


if __name__ == "__main__":
    app.main()
"""


async def test_faust_agent_consumes_record_from_aiokafka(fresh_topic, tmp_path):
    token = uid("faust-token")
    # App id starts with the topic name so the fixture also deletes faust's own topics.
    app_file = tmp_path / "faust_probe.py"
    app_file.write_text(textwrap.dedent(FAUST_APP.format(
        app_id=f"{fresh_topic}-app", bootstrap=BOOTSTRAP, topic=fresh_topic)))

    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all")
    await producer.start()
    await producer.send_and_wait(fresh_topic, token.encode(), key=b"k")
    await producer.stop()

    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(app_file), "worker", "--loglevel", "warn", "--without-web",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    output: list[str] = []
    try:
        async with asyncio.timeout(60):
            while True:
                line = await proc.stdout.readline()
                if not line:
                    break
                output.append(line.decode(errors="replace"))
                if f"SEEN {token}" in output[-1]:
                    break
    except TimeoutError:
        pass
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
    assert any(f"SEEN {token}" in line for line in output), "".join(output[-60:])


# ---------------------------------------------------------------- PostgreSQL
@pytest.mark.parametrize("service", SERVICES)
async def test_service_database_accepts_its_dev_credentials(service):
    conn = await asyncpg.connect(S.service_dsn(service), timeout=10)
    try:
        assert await conn.fetchrow("SELECT current_user, current_database()") == (service, service)
        tx = conn.transaction()  # it may create tables (migrations) in its own db
        await tx.start()
        await conn.execute("CREATE TABLE stack_probe (id int)")
        await tx.rollback()
    finally:
        await conn.close()


async def test_service_cannot_open_another_services_database():
    other = S.service_dsn("notifier").replace("notifier:notifier@", "ingest:ingest@")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(other, timeout=10)


# ---------------------------------------------------------------- SMTP sink
def _message(to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Shop <shop@example.test>"
    msg["To"] = to
    msg["Subject"] = f"Thanks for your order {uuid.uuid4().hex[:6]} – ünïcode"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@aftercart.test>"
    msg["List-Unsubscribe"] = "<https://shop.example.test/u/123>"
    msg.set_content("Hello Anna,\nthank you.\n")
    msg.add_alternative("<p>Hello Anna, thank you.</p>\n", subtype="html")
    return msg


async def _send(msg: EmailMessage) -> None:
    await aiosmtplib.send(msg, hostname=S.host, port=S.smtp_port, timeout=10)


async def test_smtp_sink_keeps_message_and_api_returns_it(mail_api):
    to = f"{uid('anna')}@example.test"
    msg = _message(to)
    await _send(msg)
    found = (await mail_api.get("/api/messages", params={"to": to})).json()
    assert len(found) == 1
    m = found[0]
    assert m["subject"] == msg["Subject"]
    assert m["message_id"] == msg["Message-ID"]
    assert m["mail_from"] == "shop@example.test" and m["rcpt_tos"] == [to]
    assert m["headers"]["List-Unsubscribe"] == "<https://shop.example.test/u/123>"
    assert m["text"] == "Hello Anna,\nthank you.\n"
    assert m["html"] == "<p>Hello Anna, thank you.</p>\n"
    one = (await mail_api.get(f"/api/messages/{m['id']}")).json()
    assert one == m
    page = await mail_api.get(f"/messages/{m['id']}")
    assert page.status_code == 200 and "List-Unsubscribe" in page.text
    assert (S.mail_dir / f"{m['id']}.eml").exists()


async def test_refuse_fault_gives_451_then_next_send_succeeds(mail_api):
    to = f"{uid('bob')}@example.test"
    r = await mail_api.post("/api/faults", json={"refuse_next": 1, "code": 451})
    assert r.json() == {"refuse_next": 1, "code": 451, "hold_after": None}  # no hold fault set
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await _send(_message(to))
    assert [e.code for e in refused.value.recipients] == [451]
    assert (await mail_api.get("/api/messages", params={"to": to})).json() == []
    assert (await mail_api.get("/api/faults")).json()["refuse_next"] == 0

    await _send(_message(to))
    assert len((await mail_api.get("/api/messages", params={"to": to})).json()) == 1
