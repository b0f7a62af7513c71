"""Database plumbing shared by the project (custom backends)."""
