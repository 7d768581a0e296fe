"""A bare Django app for ``make bench`` (issue 17): the machine's calibration views.

The same gunicorn (worker class, workers, threads, keep-alive as ``fairshare serve``) and
the same ``DATABASES`` as the run serve, on a port of their own, a Django project with no
middleware, no installed apps (no sessions, auth, messages, locale, CSRF) and two views:

* ``GET /ping``: a trivial JSON view (``views.ping``), the ceiling of Django itself,
  against which Fairshare's ``/ping`` is set;
* ``POST /bench/floor/<round>/register``: the raw-SQL registration of
  ``benchfloor/views.py`` (look up the household, lock the committee's counter row,
  insert the registration, extend the sha256 chain, commit), the same function the
  product's stack serves as its floor, so the floor's ratio to this is what Fairshare's
  middleware and settings cost, and the full endpoint's ratio is what the whole product
  costs.

Started by ``bench/steps_wrk.py`` with ``python bench/bare/serve.py``; part of the
benchmark only, never of the product.
"""
