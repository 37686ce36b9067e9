from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from bench.datagen import bench_data_build


class Command(BaseCommand):
    help = (
        "Replace the database's funnel with a large realistic one for the benchmarks (PostgreSQL only; "
        "it empties users, teams, customers and leads first)."
    )

    requires_system_checks = []  # writes rows only; it needs no URL or template checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=1_000_000, help="How many leads (default 1,000,000).")
        parser.add_argument("--reps", type=int, default=200, help="How many sales reps (default 200).")
        parser.add_argument("--teams", type=int, default=25, help="How many teams, one manager each (default 25).")
        parser.add_argument("--seed", type=int, default=7, help="Random seed, for a reproducible funnel.")
        parser.add_argument("--workers", type=int, default=2, help="Processes drawing and copying rows (default 2).")

    def handle(self, *args, leads: int, reps: int, teams: int, seed: int, workers: int, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Benchmark data goes to PostgreSQL: set DATABASE_URL to a dedicated database.")
        if leads < 1 or reps < 1 or not 1 <= teams <= reps or workers < 1:
            raise CommandError("--leads, --reps and --workers must be at least 1, and --teams between 1 and --reps.")
        database = connection.settings_dict["NAME"]
        self.stdout.write(f"Writing {leads:,} leads for {reps} reps in {teams} teams to {database}")
        info = bench_data_build(leads=leads, reps=reps, teams=teams, seed=seed, workers=workers, log=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {info['total_seconds']} s: rows {info['load_seconds']} s, first cadence run "
                f"{info['cadence_first_run_seconds']} s ({info['flags_raised']:,} flags), "
                f"VACUUM ANALYZE {info['vacuum_analyze_seconds']} s."
            )
        )
        for table, count in info["rows"].items():
            self.stdout.write(f"  {table}: {count:,}")
