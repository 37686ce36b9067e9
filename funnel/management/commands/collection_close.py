from datetime import date

from django.core.management.base import BaseCommand, CommandError

from funnel.services import collection_month_close


class Command(BaseCommand):
    help = "Close the collection month now: next month's targets per rep, this and last month's collection rates."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Close as of this day (YYYY-MM-DD) instead of today.")

    def handle(self, *args, **options):
        try:
            today = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError:
            raise CommandError("--date must look like 2026-03-25.") from None
        result = collection_month_close(today=today)
        self.stdout.write(
            f"targets set: {result['targets']}, reps counted this month: {result['closed']}, "
            f"last month: {result['previous']}"
        )
