"""podbay's terminal UI (a Textual app, issue 8): a client of podbay.runtime, never a second runtime."""
