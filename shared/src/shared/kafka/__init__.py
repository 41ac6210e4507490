"""Kafka plumbing shared by every service: broker factory, topics, durable publish, consumers."""
