"""Pure Python: the model, its rules and errors; the standard library only."""
