"""The mail sink's store: a group of messages is durable once its journal is fsynced — a crash
before their .eml files were written loses none of them (recover writes them at start), a torn
last record (never acknowledged) is skipped, and the journal is gone after recovery."""
from __future__ import annotations

from deploy.local.mailsink import MailStore


def test_a_group_is_stored_and_readable(tmp_path):
    store = MailStore(tmp_path)
    ids = store.save_many([(b"Subject: a\r\n\r\nbody a\r\n", "f@x.test", ["a@x.test"]),
                           (b"Subject: b\r\n\r\nbody b\r\n", "f@x.test", ["b@x.test", "c@x.test"])])
    assert store.ids() == sorted(ids)
    assert [m["subject"] for m in store.messages()] == ["a", "b"]
    assert store.messages("c@x.test")[0]["rcpt_tos"] == ["b@x.test", "c@x.test"]


def test_messages_only_in_the_journal_are_restored_at_start(tmp_path):
    store = MailStore(tmp_path)
    ids = store.save_many([(f"Subject: m{i}\r\n\r\nbody\r\n".encode(), "f@x.test", [f"r{i}@x.test"])
                           for i in range(3)])
    lost = tmp_path / f"{ids[1]}.eml"
    kept = lost.read_bytes()
    lost.unlink()  # as if the process died after the journal's fsync, before this file was written
    journal = next(tmp_path.glob(".journal-*"))
    with open(journal, "ab") as f:
        f.write(b"99999999999999999999-abcdef 500\nSubject: torn")  # a record cut short: never acknowledged
    again = MailStore(tmp_path)
    assert again.recover() == 1
    assert lost.read_bytes() == kept
    assert again.ids() == sorted(ids)
    assert list(tmp_path.glob(".journal-*")) == []
