"""Public-schema tables about accounts across organisations (the app is shared-only)."""

from django.db import models


class AccountIndexEntry(models.Model):
    """ "This address has an account in this organisation", for "find my organisation".

    One row per (address, tenant), the address stored as an HMAC-SHA256 digest keyed by
    SECRET_KEY (accounts/directory.py), so the table lists no addresses. Kept by the
    services that create, change, deactivate and reactivate people; a tenant's rows go
    with it (CASCADE). `manage.py account_index_rebuild` rebuilds it from every schema.
    """

    email_digest = models.CharField(max_length=64)
    tenant = models.ForeignKey("tenants.Client", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email_digest", "tenant"], name="accountindex_digest_tenant_uniq")
        ]
        indexes = [models.Index(fields=["tenant"], name="accountindex_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.email_digest[:12]}… -> {self.tenant_id}"


class HandoffUse(models.Model):
    """A sign-up hand-off token that has been used (accounts/handoff.py): the unique nonce
    makes a replay fail in every process, not only the one that saw the first use."""

    nonce = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.nonce
