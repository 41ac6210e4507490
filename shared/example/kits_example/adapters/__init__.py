"""The only code that knows MongoDB."""
