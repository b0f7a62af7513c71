"""Who did what to which tenant: one AuditRecord per lifecycle action (public schema)."""
