from django.core.management.base import BaseCommand, CommandError

from wallets.selectors import wallet_ledger_mismatches


class Command(BaseCommand):
    help = "Check that every wallet's balance equals the sum of its ledger; exit 1 if not."

    def handle(self, *args, **options):
        mismatches = wallet_ledger_mismatches()
        for row in mismatches:
            self.stderr.write(
                f"user {row['userId']}: balance {row['balance']} != ledger {row['ledgerSum']}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} wallet(s) disagree with their ledger")
        self.stdout.write("every wallet balance equals its ledger sum")
