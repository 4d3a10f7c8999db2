"""Backups: `flask backup` and `flask restore` (docs/backup.md). No pages, so no blueprint."""
