"""Idempotent demo data for `make run`: public tenant, staff user, acme and globex."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from audit.actors import actor_cli
from tenants.models import Client
from tenants.services import public_tenant_ensure, tenant_provision

STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "staff-demo-pass-2024"
DEMO_TENANTS = [
    ("acme", "Acme Corporation", "owner@acme.example", "acme-demo-pass-2024"),
    ("globex", "Globex Industries", "owner@globex.example", "globex-demo-pass-2024"),
]
DEMO_TASKS = {
    "acme": ["Order more anvils", "Test the rocket skates", "Write the quarterly report"],
    "globex": ["Hire a new henchman", "Review the doomsday budget", "Fix the volcano lair door"],
}


class Command(BaseCommand):
    help = "Seed the public tenant, a staff superuser and two demo tenants (safe to re-run)."

    def handle(self, *args, **options):
        public_tenant_ensure()
        User = get_user_model()
        with schema_context(settings.PUBLIC_SCHEMA_NAME):
            if not User.objects.filter(email=STAFF_EMAIL).exists():
                User.objects.create_superuser(STAFF_EMAIL, STAFF_PASSWORD)
        for slug, name, email, password in DEMO_TENANTS:
            if not Client.objects.filter(slug=slug).exists():
                tenant_provision(
                    slug=slug,
                    name=name,
                    owner_email=email,
                    owner_password=password,
                    actor=actor_cli(),
                    owner_verified=True,
                )
            self._seed_tasks(slug, email)
        port = settings.PORT
        base = settings.BASE_DOMAIN
        self.stdout.write("")
        self.stdout.write(f"  Public site + staff admin: http://{base}:{port}/admin/")
        self.stdout.write(f"      staff login: {STAFF_EMAIL} / {STAFF_PASSWORD}")
        for slug, _name, email, password in DEMO_TENANTS:
            self.stdout.write(f"  Tenant {slug}: http://{slug}.{base}:{port}/")
            self.stdout.write(f"      owner login: {email} / {password}")
        self.stdout.write("")

    def _seed_tasks(self, slug: str, owner_email: str) -> None:
        from tasks_app.models import Task
        from tasks_app.services import task_create

        with schema_context(slug):
            if Task.objects.exists():
                return
            owner = get_user_model().objects.get(email=owner_email)
            for title in DEMO_TASKS[slug]:
                task_create(actor=owner, title=title, description="")
