"""Citus readiness: `manage.py check` fails if tenant schemas could not be distributed.

Citus 12 schema-based sharding makes every tenant schema its own distributed schema (one
shard group, kept whole on one node). A table in a distributed schema may only have foreign
keys to tables in the same schema or to reference tables (copied to every node). The
public schema stays on the coordinator, so a tenant model pointing at a public-only model
blocks the move unless that model is declared a reference table in CITUS_REFERENCE_TABLES.
The reverse is refused too: a reference table cannot point into a distributed schema.
"""

from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import models

CHECK_TENANT_TO_PUBLIC = "core.E101"
CHECK_PUBLIC_TO_TENANT = "core.E102"
CHECK_UNKNOWN_REFERENCE_TABLE = "core.E103"


def _app_label(app: str) -> str:
    """INSTALLED_APPS entry ("django.contrib.auth" or "app.apps.Config") -> app label."""
    for config in apps.get_app_configs():
        if app in (config.name, f"{config.__module__}.{type(config).__name__}"):
            return config.label
    return app.rsplit(".", 1)[-1]


def _relations(model: type[models.Model]) -> Iterable[tuple[str, type[models.Model]]]:
    """(field name, target model) for every FK, one-to-one and many-to-many declared on model."""
    for field in model._meta.get_fields():
        if not field.is_relation or not isinstance(field.related_model, type):
            continue  # not a relation, a generic one, or a target that never resolved
        # Forward FK / one-to-one (parent links included) hold a column; reverse relations don't.
        forward_key = field.concrete and (field.many_to_one or field.one_to_one)
        if forward_key or (field.many_to_many and not field.auto_created):
            yield field.name, field.related_model


def citus_readiness_errors(
    *,
    models_to_check: Iterable[type[models.Model]],
    tenant_app_labels: set[str],
    shared_app_labels: set[str],
    reference_tables: Iterable[str],
) -> list[checks.CheckMessage]:
    """Foreign keys that Citus schema-based sharding would refuse.

    Tenant tables live in each tenant schema (distributed); tables of shared-only apps live
    in public alone. Apps in both lists have a copy in every schema, so a relation to them
    stays inside the tenant's schema.
    """
    public_only = shared_app_labels - tenant_app_labels
    tenant_only = tenant_app_labels - shared_app_labels
    allowed = {label.lower() for label in reference_tables}
    errors: list[checks.CheckMessage] = []
    seen: set[type[models.Model]] = set()
    for model in models_to_check:
        if model in seen or model._meta.auto_created:
            continue  # m2m through tables are reported via their field
        seen.add(model)
        source_app = model._meta.app_label
        for field_name, target in _relations(model):
            target_app = target._meta.app_label
            where = f"{model._meta.label}.{field_name} -> {target._meta.label}"
            if (
                source_app in tenant_app_labels
                and target_app in public_only
                and target._meta.label_lower not in allowed
            ):
                errors.append(
                    checks.Error(
                        f"{where}: a tenant table references a public-schema table, which Citus "
                        "schema-based sharding refuses unless it is a reference table.",
                        hint=(
                            f'Add "{target._meta.label}" to CITUS_REFERENCE_TABLES (small, rarely '
                            "written tables only), or store a plain id instead of a foreign key."
                        ),
                        obj=model,
                        id=CHECK_TENANT_TO_PUBLIC,
                    )
                )
            elif source_app in public_only and target_app in tenant_only:
                errors.append(
                    checks.Error(
                        f"{where}: a public-schema table references a tenant table; Citus cannot "
                        "keep a foreign key from a reference table into a distributed schema.",
                        hint="Store the tenant's schema name and the row id instead of a foreign key.",
                        obj=model,
                        id=CHECK_PUBLIC_TO_TENANT,
                    )
                )
    return errors


@checks.register(checks.Tags.models)
def citus_readiness_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    tenant_labels = {_app_label(app) for app in settings.TENANT_APPS}
    shared_labels = {_app_label(app) for app in settings.SHARED_APPS}
    reference_tables = list(getattr(settings, "CITUS_REFERENCE_TABLES", []))
    errors: list[checks.CheckMessage] = []
    for label in reference_tables:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            model = None
        if model is None or model._meta.app_label not in shared_labels - tenant_labels:
            errors.append(
                checks.Error(
                    f"CITUS_REFERENCE_TABLES entry {label!r} is not a model of a shared-only app.",
                    hint='Use "app_label.ModelName" of a model whose table lives only in public.',
                    id=CHECK_UNKNOWN_REFERENCE_TABLE,
                )
            )
    errors += citus_readiness_errors(
        models_to_check=apps.get_models(include_auto_created=True),
        tenant_app_labels=tenant_labels,
        shared_app_labels=shared_labels,
        reference_tables=reference_tables,
    )
    return errors
