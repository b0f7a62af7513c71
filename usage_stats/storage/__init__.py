"""Storage: monthly partitions and retention of the events table, and deleting a
tenant's rows. Run by commands and after `migrate_stats`, never by a web process."""
