from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import ImportUploadForm, mapping_form
from ..imports import services
from ..imports.columns import fields_for
from ..models import ImportBatch

PREVIEW_ROWS = 20


def _own_batch(request, pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch, pk=pk, created_by=request.user)


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    kinds = [k for k in ImportBatch.Kind.values if services.may_import(request.user, k)]
    if not kinds:
        raise Http404
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.import_upload(
                actor=request.user, kind=form.cleaned_data["kind"], filename=upload.name, data=upload.read()
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            form.add_error("file", error.message_dict.get("file", error.messages))
        else:
            return redirect("funnel:import-detail", pk=batch.pk)
    batches = ImportBatch.objects.filter(created_by=request.user).defer("rows", "header")[:20]
    return render(request, "funnel/imports.html", {"form": form, "batches": batches})


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request, pk: int):
    batch = _own_batch(request, pk)
    form = mapping_form(batch, request.POST or None)
    if request.method == "POST" and form.is_valid():
        mapping = {field: int(column) for field, column in form.cleaned_data.items() if column != ""}
        try:
            services.import_check(batch=batch, mapping=mapping)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            return redirect("funnel:import-detail", pk=batch.pk)
    fields = fields_for(batch.kind)
    preview_fields = [(field, fields[field][0], column) for field, column in batch.mapping.items()]
    preview = [[row[column] for _f, _l, column in preview_fields] for row in batch.rows[:PREVIEW_ROWS]]
    context = {
        "batch": batch,
        "form": form,
        "preview_fields": preview_fields,
        "preview": preview,
        "total": len(batch.rows),
        "importable": len(batch.rows) - len(batch.duplicates),
        "progress": cache.get(services.progress_key(batch.pk), 0),
    }
    return render(request, "funnel/import_detail.html", context)


@login_required
@require_POST
def import_start(request, pk: int):
    batch = _own_batch(request, pk)
    try:
        services.import_start(batch=batch)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("funnel:import-detail", pk=batch.pk)


@login_required
def import_progress(request, pk: int):
    batch = _own_batch(request, pk)
    context = {
        "batch": batch,
        "progress": cache.get(services.progress_key(batch.pk), 0),
        "importable": len(batch.rows) - len(batch.duplicates),
    }
    return render(request, "funnel/partials/import_progress.html", context)
