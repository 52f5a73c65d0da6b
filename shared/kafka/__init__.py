"""Kafka helpers: the idempotent producer, the consumer loop with its failure policy."""
