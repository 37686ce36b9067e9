from django.core.management.base import BaseCommand

from scoring.services.jobs import leads_rescore_all
from scoring.services.training import scoring_model_train


class Command(BaseCommand):
    help = "Train the win-probability model now (if there are enough closed leads) and re-score every lead."

    def handle(self, *args, **options) -> None:
        model = scoring_model_train()
        if model is None:
            self.stdout.write("Not enough closed leads for a model yet: leads get points only.")
        else:
            self.stdout.write(f"Model v{model.version} trained, cross-validated ROC-AUC {model.cv_auc:.3f}.")
        written = leads_rescore_all()
        self.stdout.write(f"Scores written: {written}.")
