"""Tunetown: a demo third-party music app on the Login Kit and the Sound Kit."""
