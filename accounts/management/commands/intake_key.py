from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import IntakeKey, Team
from accounts.services import intake_key_create, intake_key_revoke


class Command(BaseCommand):
    help = "Create, list or revoke the intake keys that web forms use to post leads."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key and print it once.")
        create.add_argument("--name", required=True)
        create.add_argument("--source", default="web_form")
        create.add_argument("--team", help="Team name; new leads go round-robin to its reps.")
        create.add_argument("--origin", action="append", default=[], help="Allowed browser origin (repeatable).")
        create.add_argument("--redirect", default="", help="Where a plain HTML form post is sent afterwards.")
        sub.add_parser("list", help="List keys.")
        revoke = sub.add_parser("revoke", help="Revoke a key by name.")
        revoke.add_argument("name")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _create(self, *, name, source, team, origin, redirect, **_options) -> None:
        team_obj = None
        if team:
            team_obj = Team.objects.filter(name=team).first()
            if team_obj is None:
                raise CommandError(f"No team named {team!r}.")
        assignment = IntakeKey.Assignment.ROUND_ROBIN if team_obj else IntakeKey.Assignment.POOL
        try:
            key, secret = intake_key_create(
                name=name,
                source=source,
                team=team_obj,
                assignment=assignment,
                allowed_origins=origin,
                redirect_url=redirect,
            )
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from None
        self.stdout.write(f"Created intake key {key.name!r}. It is shown only now:\n{secret}")

    def _list(self, **_options) -> None:
        for key in IntakeKey.objects.select_related("team"):
            state = "revoked" if key.revoked_at else "active"
            self.stdout.write(
                f"{key.name}\t{key.prefix}…\t{state}\tsource={key.source}\tassignment={key.assignment}"
                f"\tteam={key.team or '-'}\torigins={','.join(key.allowed_origins) or '-'}"
            )

    def _revoke(self, *, name, **_options) -> None:
        key = IntakeKey.objects.filter(name=name).first()
        if key is None:
            raise CommandError(f"No intake key named {name!r}.")
        intake_key_revoke(key=key)
        self.stdout.write(f"Revoked {name!r}.")
