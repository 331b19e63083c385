"""Container logs: the CRI log format, written with rotation and read back."""
