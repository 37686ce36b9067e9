import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from funnel.demo import DEMO_PASSWORD, demo_build, demo_present, demo_summary


class Command(BaseCommand):
    help = "Fill the database with a demo sales team, customers and a lived-in funnel (skipped if already there)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=2000, help="How many leads to create (default 2000).")
        parser.add_argument("--reps", type=int, default=20, help="How many sales reps, over three teams (default 20).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for a reproducible funnel.")
        parser.add_argument("--reset", action="store_true", help="Delete an earlier demo dataset and build it again.")

    def handle(self, *args, leads: int, reps: int, seed: int, reset: bool, **options) -> None:
        if leads < 0 or reps < 1:
            raise CommandError("--leads must be 0 or more and --reps at least 1.")
        if demo_present() and not reset:
            # `make run` calls this on every start: a second run must not duplicate or overwrite anything.
            self.stdout.write("Demo data is already present; nothing to do (use --reset to rebuild it).")
            self._write_logins()
            return
        started = time.monotonic()
        demo_build(leads=leads, reps=reps, seed=seed, reset=reset)
        # Scores come from the scoring app's own command: the funnel does not import scoring.
        call_command("scoring_refresh", stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data created in {time.monotonic() - started:.1f} s."))
        self._write_logins()
        counts = demo_summary().stage_counts
        per_stage = ", ".join(f"{stage} {count}" for stage, count in counts.items())
        self.stdout.write(f"Leads by stage: {per_stage} (total {sum(counts.values())}).")

    def _write_logins(self) -> None:
        self.stdout.write("Demo logins:")
        for role, usernames in demo_summary().logins:
            self.stdout.write(f"  {role}: {', '.join(usernames)} / password {DEMO_PASSWORD}")
