"""`/`: the demo client. Static HTML + vanilla JS calling the public API through this gateway."""

from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

index = require_GET(TemplateView.as_view(template_name="webui/index.html"))
