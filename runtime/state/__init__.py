"""Live state: pods, their status and events, shared by the CLI, the TUI and the supervisor."""
