from django.core.management.base import BaseCommand

from accounts.directory import account_index_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the address -> organisation index behind 'find my organisation' from every "
        "tenant schema (after restoring a backup or rotating SECRET_KEY)."
    )

    def handle(self, *args, **options):
        count = account_index_rebuild()
        self.stdout.write(f"indexed {count} account(s)")
