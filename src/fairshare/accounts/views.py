from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fairshare.accounts.selectors import staff_places


@login_required
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html", staff_places(user=request.user))
