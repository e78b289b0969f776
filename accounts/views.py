from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .forms import ApiKeyForm, ProfileForm
from .models import ApiKey


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile was saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        api_key, raw_key = ApiKey.create_for(user=request.user, label=form.cleaned_data["label"])
        # Shown in this response only: the key is not stored anywhere readable.
        return render(
            request, "accounts/api_key_created.html", {"api_key": api_key, "raw_key": raw_key}
        )
    return render(
        request,
        "accounts/api_keys.html",
        {"form": form, "api_keys": request.user.api_keys.all()},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def revoke_api_key(request, key_id):
    api_key = get_object_or_404(ApiKey, pk=key_id, user=request.user)
    api_key.delete()
    messages.success(request, f"The key {api_key.prefix}… ({api_key.label}) was revoked.")
    return redirect("accounts:api_keys")
