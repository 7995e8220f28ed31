"use strict";
// Every service's schema behind one drop-down: Swagger UI reads `urls` only in the standalone
// layout, whose top bar holds the drop-down.
const ui = SwaggerUIBundle({
  ...{{ settings|safe }},
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
