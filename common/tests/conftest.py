"""`common`'s own suite runs outside any service: the few settings its modules read, once."""

import django
from django.conf import settings

from common.settings import call_settings

if not settings.configured:
    settings.configure(REST_FRAMEWORK={}, DEFAULT_CHARSET="utf-8", **call_settings())
    django.setup()
