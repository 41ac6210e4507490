"""HTTP routes and Kafka subscriptions: they translate, then call one handler."""
