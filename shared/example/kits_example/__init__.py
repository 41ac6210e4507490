"""The worked example: a service in miniature to copy (see `shared/README.md`)."""
