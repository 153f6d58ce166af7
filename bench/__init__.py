"""The load benchmark: `make bench` (see README.md here)."""
